/**
 * ChannelPollLimiter: per-channel poll concurrency and rate for the engine, in process. A task whose
 * channel has no permit now is put off (re-delayed by the scheduler), never held waiting, so one busy channel
 * cannot occupy the engine's concurrency while other channels' tasks are due. In process rather than BullMQ's
 * limiter: BullMQ limits a whole queue (per-group limits are BullMQ Pro), and one queue holds every channel's
 * tasks. Limits are per instance: N instances poll a channel at most N x the limits.
 *
 * The rate is a reservation schedule (GCRA-like): each poll takes the channel's next free slot, 1/rate apart,
 * and up to one second of slots may be taken at once (the burst). A task over the burst is given its own slot
 * further out and put off until then, so a backlog of thousands of due tasks is spread over the coming
 * seconds, each coming back once, instead of all retrying at the next token.
 */
import type { PollGate, PollPermit } from '../task-advancer';

/** Limits per channel. */
export interface ChannelPollLimits {
  /** Most polls in flight per channel. */
  readonly concurrency: number;
  /** Most polls started per second per channel (burst: one second's worth). */
  readonly ratePerSecond: number;
}

interface ChannelState {
  active: number;
  /** Time of the next free slot, ms (performance.now() scale). */
  nextSlot: number;
  /** Slots reserved by put-off tasks: task id -> slot time. */
  readonly reserved: Map<string, number>;
}

/** How long after its time a reserved slot of a task that never came back is kept. */
const RESERVED_SLOT_KEPT_MS = 60_000;

/** How long a task is put off when its channel's polls are all in flight (they end within a poll's time). */
const BUSY_RETRY_MS = 250;

export class ChannelPollLimiter implements PollGate {
  private readonly channels = new Map<string, ChannelState>();
  private readonly slotMs: number;
  /** How far ahead of now a slot may be and still be taken now: one second's worth of slots in all. */
  private readonly toleranceMs: number;

  constructor(
    private readonly limits: ChannelPollLimits,
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    if (!(limits.concurrency >= 1) || !(limits.ratePerSecond > 0)) throw new RangeError('ChannelPollLimiter concurrency must be >= 1 and ratePerSecond > 0');
    this.slotMs = 1000 / limits.ratePerSecond;
    this.toleranceMs = Math.max(0, 1000 - this.slotMs);
  }

  tryAcquire(channelId: string, taskId?: string): PollPermit | { readonly retryInMs: number } {
    const now = this.now();
    let state = this.channels.get(channelId);
    if (!state) {
      state = { active: 0, nextSlot: now, reserved: new Map() };
      this.channels.set(channelId, state);
    }
    if (state.active >= this.limits.concurrency) return { retryInMs: BUSY_RETRY_MS + Math.floor(this.random() * BUSY_RETRY_MS) };
    const mine = taskId === undefined ? undefined : state.reserved.get(taskId);
    if (mine !== undefined) {
      // A put-off task coming back: its slot was taken when it was put off.
      if (mine > now + 1) return { retryInMs: Math.ceil(mine - now) };
      state.reserved.delete(taskId as string);
    } else {
      const slot = Math.max(state.nextSlot, now);
      state.nextSlot = slot + this.slotMs;
      if (slot > now + this.toleranceMs) {
        const at = slot - this.toleranceMs;
        if (taskId !== undefined) this.reserve(state, taskId, at, now);
        return { retryInMs: Math.ceil(at - now) };
      }
    }
    state.active += 1;
    let released = false;
    const s = state;
    return {
      release: () => {
        if (released) return;
        released = true;
        s.active -= 1;
      },
    };
  }

  /**
   * Keeps a put-off task's slot; slots of tasks that never came back (they ended) are dropped a minute after their
   * time. Slots are handed out in increasing order and a task is reserved only when it holds none, so the Map's
   * insertion order is slot order and the stale ones are at its front: dropping them costs what is dropped. (A
   * scan of the whole Map every 1,000 reservations took milliseconds with 100,000 tasks put off.)
   */
  private reserve(state: ChannelState, taskId: string, at: number, now: number): void {
    for (const [id, t] of state.reserved) {
      if (t >= now - RESERVED_SLOT_KEPT_MS) break;
      state.reserved.delete(id);
    }
    state.reserved.set(taskId, at);
  }

  /** Polls in flight on `channelId` (tests, metrics). */
  active(channelId: string): number {
    return this.channels.get(channelId)?.active ?? 0;
  }
}
