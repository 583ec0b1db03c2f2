/**
 * ChannelPollLimiter: per-channel poll concurrency and rate for the engine, in process. A task whose
 * channel has no permit now is put off (re-delayed by the scheduler), never held waiting, so one busy channel
 * cannot occupy the engine's concurrency while other channels' tasks are due. In process rather than BullMQ's
 * limiter: BullMQ limits a whole queue (per-group limits are BullMQ Pro), and one queue holds every channel's
 * tasks. Limits are per instance: N instances poll a channel at most N x the limits.
 */
import type { PollGate, PollPermit } from '../task-advancer';

/** Limits per channel. */
export interface ChannelPollLimits {
  /** Most polls in flight per channel. */
  readonly concurrency: number;
  /** Most polls started per second per channel (token bucket; burst = one second's worth). */
  readonly ratePerSecond: number;
}

interface ChannelState {
  active: number;
  tokens: number;
  refilledAt: number;
}

/** How long a task is put off when its channel's polls are all in flight (they end within a poll's time). */
const BUSY_RETRY_MS = 100;

export class ChannelPollLimiter implements PollGate {
  private readonly channels = new Map<string, ChannelState>();

  constructor(
    private readonly limits: ChannelPollLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limits.concurrency >= 1) || !(limits.ratePerSecond > 0)) throw new RangeError('ChannelPollLimiter concurrency must be >= 1 and ratePerSecond > 0');
  }

  tryAcquire(channelId: string): PollPermit | { readonly retryInMs: number } {
    const now = this.now();
    let state = this.channels.get(channelId);
    if (!state) {
      state = { active: 0, tokens: this.limits.ratePerSecond, refilledAt: now };
      this.channels.set(channelId, state);
    }
    const { ratePerSecond, concurrency } = this.limits;
    state.tokens = Math.min(ratePerSecond, state.tokens + ((now - state.refilledAt) / 1000) * ratePerSecond);
    state.refilledAt = now;
    if (state.active >= concurrency) return { retryInMs: BUSY_RETRY_MS };
    if (state.tokens < 1) return { retryInMs: Math.ceil(((1 - state.tokens) / ratePerSecond) * 1000) };
    state.tokens -= 1;
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

  /** Polls in flight on `channelId` (tests, metrics). */
  active(channelId: string): number {
    return this.channels.get(channelId)?.active ?? 0;
  }
}
