/**
 * TaskAdvancer: `advance(taskId)`, the one unit of work on a task. Lease (one upstream poll per task per
 * interval across callers, instances and the engine), poll and its follow-ups, state application, the
 * deadline, and, once terminal, settlement and the open-task slot. The engine calls it when a task is due;
 * a query calls the same step (coalesced with any step already running in this process).
 */
import { inject, injectable } from 'tsyringe';
import type { Channel } from '../routing/channels';
import { performance } from 'node:perf_hooks';
import type { ImageAdapter, UpstreamTaskState } from '../adapter-kit/contract';
import { CLOCK, LOGGER, METRICS, RESULT_MIRROR, RESULT_URL_CHECK, SUBMIT_LIMITER, TASK_NOTIFIER, TASK_OPTIONS, TASK_STORE } from '../di/tokens';
import type { ResultMirror } from '../blobs/result-mirror';
import { mirrorSucceededState } from './result-mirroring';
import type { ResultUrlCheck } from '../security/result-url-policy';
import { isUpstreamError, UpstreamError } from '../platform/errors';
import { isTerminal } from '../platform/task';
import { withBindings } from '../util/bound-logger';
import type { Clock, Logger, Metrics } from '../core/ports';
import type { SubmitLimiter } from '../security/ports';
import type { RequestContext, TaskNotifier, TaskStore } from './ports';
import { UsageSettlement } from './settlement';
import { SyncRunner } from './sync-runner';
import { errorFields } from './task-errors';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './task-options';
import { defaultResultUrlCheck } from '../security/result-url-policy';
import { applyUpstreamState, type TaskRecord } from './task-record';
import { ChannelCalls } from './channel-calls';

/** Follow-up requests a poll may chain (e.g. status -> result) before it is declared malformed. */
const MAX_POLL_HOPS = 3;

/** What one advance did. */
export interface AdvanceResult {
  /** The record after the step; undefined when the store has no such task (it expired, or never existed). */
  readonly record: TaskRecord | undefined;
  /** True when nothing is left to do for the task: it is gone, or terminal, settled and notified. */
  readonly done: boolean;
  /** True when this call made an upstream poll. */
  readonly polled: boolean;
  /** When a poll was due and attempted (made, failed, or the lease was another caller's), ms since epoch. */
  readonly pollAttemptedAt?: number;
  /** Set when the gate put the poll off: run the task again after this many ms. */
  readonly deferredMs?: number;
}

/** One poll's permit from a PollGate. */
export interface PollPermit {
  /** Gives the permit back (idempotent). */
  release(): void;
}

/** Decides whether the engine may poll a channel now (per-channel concurrency and rate). */
export interface PollGate {
  /** A permit for one poll of `taskId` on `channelId`, or how long to put the poll off. */
  tryAcquire(channelId: string, taskId: string): PollPermit | { readonly retryInMs: number };
}

@injectable()
export class TaskAdvancer {
  private readonly options: ResolvedTaskOptions;
  /** Steps running in this process by task id: concurrent callers of one task share one step (and one poll). */
  private readonly inFlight = new Map<string, Promise<TaskRecord>>();

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(ChannelCalls) private readonly calls: ChannelCalls,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(UsageSettlement) private readonly settlement: UsageSettlement,
    @inject(SyncRunner) private readonly syncRunner: SyncRunner,
    @inject(TASK_OPTIONS, { isOptional: true }) options?: TaskOptions,
    @inject(SUBMIT_LIMITER, { isOptional: true }) private readonly limiter?: SubmitLimiter,
    @inject(RESULT_URL_CHECK, { isOptional: true }) private readonly checkResultUrl?: ResultUrlCheck,
    @inject(TASK_NOTIFIER, { isOptional: true }) private readonly notifier?: TaskNotifier,
    @inject(RESULT_MIRROR, { isOptional: true }) private readonly mirror?: ResultMirror,
  ) {
    this.options = resolveTaskOptions(options);
  }

  /** The resolved task options (interval, deadline) this advancer works with. */
  get taskOptions(): ResolvedTaskOptions {
    return this.options;
  }

  /** The stored record (no upstream call). */
  read(taskId: string): Promise<TaskRecord | undefined> {
    return this.store.get(taskId);
  }

  /**
   * One unit of work on the task: poll when due (when `gate` gives a permit for its channel), apply, expire at
   * the deadline, and once terminal settle, free the slot and notify.
   */
  async advance(taskId: string, gate?: PollGate): Promise<AdvanceResult> {
    const stored = await this.store.get(taskId);
    if (!stored) return { record: undefined, done: true, polled: false };
    const log = withBindings(this.logger, { task_id: taskId });
    if (isTerminal(stored.status)) return { record: stored, done: await this.finalize(stored, log), polled: false };
    const now = this.clock.now();
    const due = this.pollDue(stored, now) && !this.inFlight.has(taskId);
    let permit: PollPermit | undefined;
    // Past the deadline the task is expired whatever the channel's budget says.
    if (due && gate && now - stored.createdAt < this.options.deadlineMs) {
      const answer = gate.tryAcquire(stored.channelId, taskId);
      if ('retryInMs' in answer) return { record: stored, done: false, polled: false, deferredMs: answer.retryInMs };
      permit = answer;
    }
    const attempt = { polled: false };
    let record: TaskRecord;
    try {
      record = await this.step(stored, undefined, log, attempt);
    } finally {
      permit?.release();
    }
    const polled = attempt.polled;
    const base = { polled, ...(due ? { pollAttemptedAt: now } : {}) };
    if (!isTerminal(record.status)) return { record, done: false, ...base };
    return { record, done: await this.finalize(record, log), ...base };
  }

  /**
   * After a terminal transition (or on finding a terminal record unfinished): frees the open-task slot
   * (idempotent), settles usage unless settled, then hands the task to the notifier when it has a
   * callbackUrl not yet notified. True when nothing is left to do; false: run it again later.
   */
  async finalize(record: TaskRecord, log: Logger, requestId?: string): Promise<boolean> {
    await this.releaseSlot(record, log);
    if (!(await this.settlement.settle(record, log, requestId))) return false;
    return this.notify(record, log);
  }

  /** True when nothing is to be notified or the notifier took the task (then the record says so). */
  private async notify(record: TaskRecord, log: Logger): Promise<boolean> {
    if (record.callbackUrl === undefined || record.notified === true || !this.notifier) return true;
    try {
      await this.notifier.notify(record);
    } catch (err) {
      log.warn({ event: 'notify_failed', error: errorFields(err) }, 'the terminal task could not be queued for its callback; it will be retried');
      return false;
    }
    record.notified = true;
    await this.store.update(record);
    return true;
  }

  /** A query's step: step(), but answers the stored record once queryWaitMs has passed (the step goes on in the background). */
  async stepWithin(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    // Most queries of a busy task find no poll due and none running: no upstream wait to bound, so no timer.
    if (!this.inFlight.has(record.id) && !this.pollDue(record, this.clock.now())) return this.unpolled(record, ctx, log);
    const work = this.step(record, ctx, log);
    const waitMs = this.options.queryWaitMs;
    let timer: NodeJS.Timeout | undefined;
    const fallback = new Promise<TaskRecord>((resolve) => {
      timer = setTimeout(() => {
        log.warn({ event: 'poll_slow', channel: record.channelId, waited_ms: waitMs }, 'upstream poll still running; answering the stored task');
        resolve(record);
      }, waitMs);
    });
    try {
      // race() also handles a late rejection of `work`, so it can never become an unhandled rejection.
      return await Promise.race([work, fallback]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The freshest record this caller may have: polls when the interval has passed and this caller won the lease. */
  private async step(record: TaskRecord, ctx: RequestContext | undefined, log: Logger, attempt?: { polled: boolean }): Promise<TaskRecord> {
    const running = this.inFlight.get(record.id);
    if (running) {
      if (!ctx) return running;
      // Joining another caller's poll is waiting on the upstream too.
      const started = performance.now();
      try {
        return await running;
      } finally {
        ctx.upstreamMs = (ctx.upstreamMs ?? 0) + (performance.now() - started);
      }
    }
    const work = this.stepOnce(record, ctx, log, attempt).finally(() => this.inFlight.delete(record.id));
    this.inFlight.set(record.id, work);
    return work;
  }

  private async stepOnce(record: TaskRecord, ctx: RequestContext | undefined, log: Logger, attempt?: { polled: boolean }): Promise<TaskRecord> {
    if (record.syncRun !== undefined) return this.stepSync(record, ctx, log);
    if (this.pollDue(record, this.clock.now()) && (await this.store.tryAcquirePollLease(record.id, this.options.pollIntervalMs))) {
      if (attempt) attempt.polled = true;
      let state: UpstreamTaskState | undefined;
      try {
        state = await this.pollUpstream(record, ctx);
      } catch (err) {
        // A failed poll does not fail the query: the client gets the last known state and asks again.
        log.warn({ event: 'poll_failed', channel: record.channelId, error: errorFields(err) }, 'upstream poll failed; answering the stored task');
        if (isUpstreamError(err) && err.isRetryable) this.calls.router.reportFailure(record.channelId);
      }
      if (state) return this.applyState(record, state, ctx, log);
    }
    return this.unpolled(record, ctx, log);
  }

  /**
   * A synchronous upstream's task: the engine (no request context) starts its run; a query only answers the
   * stored task (and fails a lost run). The run's state is applied like a poll's.
   */
  private async stepSync(record: TaskRecord, ctx: RequestContext | undefined, log: Logger): Promise<TaskRecord> {
    const step = await this.syncRunner.step(record, log, ctx === undefined);
    if (step.kind === 'state') return this.applyState(record, step.state, ctx, log, new Set(step.storedUrls));
    const current = (await this.store.get(record.id)) ?? record;
    return this.unpolled(current, ctx, log);
  }

  /** A task's poll is due when it was never polled or the interval has passed since the last poll. */
  pollDue(record: TaskRecord, now: number): boolean {
    return record.lastPolledAt === 0 || now - record.lastPolledAt >= this.options.pollIntervalMs;
  }

  /** The answer when no poll is made: the stored record, or the failed one once the task is past its deadline. */
  private async unpolled(record: TaskRecord, ctx: RequestContext | undefined, log: Logger): Promise<TaskRecord> {
    return this.clock.now() - record.createdAt >= this.options.deadlineMs ? this.expire(record, ctx, log) : record;
  }

  /** One poll: the adapter's poll request, then its follow-ups, to an upstream-neutral state. */
  private async pollUpstream(record: TaskRecord, ctx: RequestContext | undefined): Promise<UpstreamTaskState> {
    const channel: Channel | undefined = this.calls.router.byId(record.channelId);
    if (!channel) throw new UpstreamError('not_found', `The channel "${record.channelId}" that runs this task is no longer configured.`);
    const adapter: ImageAdapter = this.calls.adapter(record.adapterId);
    let request = adapter.buildPoll(record.upstreamRef);
    for (let hop = 0; ; hop += 1) {
      const response = await this.calls.send(ctx, channel, adapter, request, 'poll', record.owner);
      const outcome = adapter.parsePoll(response, record.upstreamRef);
      if (outcome.kind === 'state') {
        this.calls.router.reportSuccess(channel.id);
        return outcome.state;
      }
      if (hop >= MAX_POLL_HOPS) throw new UpstreamError('malformed', `The upstream asked for more than ${MAX_POLL_HOPS} follow-up requests to read one task.`);
      request = outcome.request;
    }
  }

  /** Applies a polled state to the current stored record (which may have moved on), stores it, settles if it ended. */
  private async applyState(polled: TaskRecord, polledState: UpstreamTaskState, ctx: RequestContext | undefined, log: Logger, polledOwnUrls: ReadonlySet<string> = new Set()): Promise<TaskRecord> {
    let current = (await this.store.get(polled.id)) ?? polled;
    if (isTerminal(current.status)) return current;
    let state = polledState;
    let ownUrls = polledOwnUrls;
    const channel = this.calls.router.byId(current.channelId);
    if (state.status === 'succeeded' && channel?.mirrorResults === true && this.mirror !== undefined) {
      const mirrored = await this.mirrorOnce(current, state, log);
      if (mirrored === undefined) return current;
      current = (await this.store.get(polled.id)) ?? current;
      if (isTerminal(current.status)) return current;
      state = mirrored.state;
      ownUrls = new Set([...ownUrls, ...mirrored.storedUrls]);
      if (mirrored.warnings.length > 0) current.warnings = [...current.warnings, ...mirrored.warnings];
    }
    const now = this.clock.now();
    // A failed task's upstream text reaches the client: remove the channel key itself, not only key-shaped text.
    const secrets = [this.calls.router.byId(current.channelId)?.apiKey ?? ''].filter((k) => k !== '');
    // URLs the bridge minted for images it stored are its own, not an upstream's: the result-URL policy is for upstreams.
    const check = this.checkResultUrl ?? defaultResultUrlCheck;
    const judge = ownUrls.size === 0 ? this.checkResultUrl : (url: string) => (ownUrls.has(url) ? undefined : check(url));
    const ended = applyUpstreamState(current, state, now, secrets, judge);
    if (!ended && now - current.createdAt >= this.options.deadlineMs) return this.expire(current, ctx, log);
    await this.store.update(current);
    if (!ended) return current;
    return this.finish(current, ctx, log);
  }

  /**
   * Mirrors a succeeded state's images once per task: the claim is the store's atomic reservation, held for the
   * mirror's whole budget, so another caller (instance, engine, query) that polls the same success meanwhile
   * applies nothing (undefined) and the holder writes the result. A holder that dies leaves the claim to lapse;
   * the next poll then mirrors.
   */
  private async mirrorOnce(record: TaskRecord, state: UpstreamTaskState, log: Logger): Promise<Awaited<ReturnType<typeof mirrorSucceededState>> | undefined> {
    const mirror = this.mirror as ResultMirror;
    const keep = Math.max(1, record.billing.requestedImages);
    const claim = await this.store.reserveIdempotencyKey(`mirror:${record.id}`, { fingerprint: 'mirror', taskId: record.id, state: 'pending' }, mirror.budgetMs(keep));
    if (claim.outcome !== 'reserved') {
      log.info({ event: 'mirror_held' }, 'another caller is mirroring this task\'s results');
      return undefined;
    }
    return mirrorSucceededState(state, keep, mirror, this.checkResultUrl ?? defaultResultUrlCheck, log);
  }

  /** A task past its deadline fails with upstream_timeout (costs nothing). */
  private async expire(record: TaskRecord, ctx: RequestContext | undefined, log: Logger): Promise<TaskRecord> {
    const now = this.clock.now();
    const minutes = Math.round(this.options.deadlineMs / 60_000);
    applyUpstreamState(
      record,
      {
        status: 'failed',
        images: [],
        error: { code: 'upstream_timeout', message: `The upstream did not finish the task within ${minutes} minute${minutes === 1 ? '' : 's'}.` },
      },
      now,
    );
    await this.store.update(record);
    return this.finish(record, ctx, log);
  }

  /** After a terminal update: reads back the record that won (another instance may have ended it first), then settles. */
  private async finish(written: TaskRecord, ctx: RequestContext | undefined, log: Logger): Promise<TaskRecord> {
    const stored = (await this.store.get(written.id)) ?? written;
    if (stored.status === written.status && stored.updatedAt === written.updatedAt) {
      const status = stored.status as 'succeeded' | 'failed';
      this.metrics.taskTerminal(stored.model, status);
      log.info({ event: 'task_terminal', model: stored.model, status, result_count: stored.resultUrls.length, error: stored.error }, 'task finished');
    }
    await this.finalize(stored, log, ctx?.requestId);
    return stored;
  }

  /** Frees the task's open-task slot (idempotent); it also lapses on its own, so a failure costs the owner a slot only for a while. */
  private async releaseSlot(record: TaskRecord, log: Logger): Promise<void> {
    await this.limiter?.release(record.owner, record.id).catch((e: unknown) => log.warn({ error: errorFields(e) }, 'open-task slot not released'));
  }
}
