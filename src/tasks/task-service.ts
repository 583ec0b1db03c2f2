/**
 * TaskService: the task API (design sections 5 and 6). Submit normalizes, routes and submits with
 * failover across channels; query answers from the store and polls the upstream on demand, at most once
 * per task per interval across all callers and instances; usage settles exactly once per task.
 */
import { inject, injectable } from 'tsyringe';
import type { Channel, ChannelRouter } from '../adapter/channels';
import { performance } from 'node:perf_hooks';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse, UpstreamTaskState } from '../adapter/contract';
import { AdapterRegistry } from '../adapter/registry';
import { CHANNEL_ROUTER, CLOCK, LOGGER, METRICS, NORMALIZE_OPTIONS, PRICES, RANDOM, SUBMIT_LIMITER, TASK_OPTIONS, TASK_STORE, UPSTREAM_CLIENT, USAGE_SINK } from '../di/tokens';
import { normalizePlatformRequest, type NormalizeOptions } from '../intent/normalize';
import { BridgeError, isBridgeError, UpstreamError } from '../platform/errors';
import type { RawSubmit } from '../platform/submit-request';
import { isTerminal, type PlatformTask } from '../platform/task';
import type { UpstreamClient } from '../upstream/upstream-client';
import type { ImageIntent } from '../intent/intent';
import { DEFAULT_IDEMPOTENCY_TTL_MS, idempotencyStoreKey, requestFingerprint } from '../security/idempotency';
import type { Clock, IdempotencyEntry, Logger, Metrics, Principal, Random, RequestContext, SubmitLimiter, TaskApi, TaskStore, UsageEvent, UsageSink } from './ports';
import { withBindings } from '../util/bound-logger';
import { computeCost, DEFAULT_PRICES, type Prices } from './pricing';
import { applyUpstreamState, toPlatformTask, type TaskRecord } from './task-record';

/** Options of the task service. */
export interface TaskServiceOptions {
  /** Least time between two upstream polls of one task, across all callers and instances (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** A task not terminal this long after submit fails with upstream_timeout (default 15 min). */
  readonly deadlineMs?: number;
  /**
   * Longest a query waits for the upstream poll it started or joined (default 3000 ms). Past it the stored
   * task is answered and the poll goes on in the background: a hung upstream (timeouts x retries) must not
   * hang the client's query.
   */
  readonly queryWaitMs?: number;
  /** How long an Idempotency-Key is remembered after its task was created (default 24 h). */
  readonly idempotencyTtlMs?: number;
  /** How long a key stays reserved by a submit that never finishes (a crashed instance; default 5 min). */
  readonly idempotencyPendingTtlMs?: number;
  /** How long a submit waits for a concurrent submit holding the same key before answering 409 (default 10 s). */
  readonly idempotencyWaitMs?: number;
  /** Interval of that wait's checks (default 100 ms). */
  readonly idempotencyPollMs?: number;
  /** Waits `ms` (tests replace it; default setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Defaults of TaskServiceOptions. */
export const DEFAULT_TASK_OPTIONS = {
  pollIntervalMs: 1000,
  deadlineMs: 15 * 60 * 1000,
  queryWaitMs: 3000,
  idempotencyTtlMs: DEFAULT_IDEMPOTENCY_TTL_MS,
  idempotencyPendingTtlMs: 5 * 60 * 1000,
  idempotencyWaitMs: 10_000,
  idempotencyPollMs: 100,
} as const;

/** The request header of idempotent submits, named in its errors. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Random bytes in a task id: 128 bits. */
const TASK_ID_BYTES = 16;
/** What a task id looks like; anything else is not found without a store lookup. */
const TASK_ID_PATTERN = /^task_[A-Za-z0-9_-]{22,64}$/;
/** Follow-up requests a poll may chain (e.g. status -> result) before it is declared malformed. */
const MAX_POLL_HOPS = 3;

/** A new task id: `task_` + base64url of 128 random bits. */
export function newTaskId(random: Random): string {
  return `task_${random.bytes(TASK_ID_BYTES).toString('base64url')}`;
}

/**
 * Whether a failed submit may go to the next channel without risking a second paid job: only when the
 * upstream provably did not take it (connection refused, or it answered 429/5xx/auth failure). A timeout or
 * a broken connection may hide an accepted job, so it is never sent again.
 */
function mayFailOver(err: UpstreamError): boolean {
  if (err.kind === 'connection_refused') return true;
  const answered = err.upstreamStatus !== undefined;
  return answered && (err.kind === 'rate_limited' || err.kind === 'server_error' || err.kind === 'auth');
}

function taskNotFound(): BridgeError {
  return new BridgeError('task_not_found', 'No task with this id exists for this API key. Check the task_id returned by the submit call.', 'task_id');
}

/** Upstream errors are recognised by shape, not class (see src/platform/errors.ts). */
function isUpstreamError(err: unknown): err is UpstreamError {
  return isBridgeError(err) && typeof (err as { kind?: unknown }).kind === 'string' && typeof (err as { isRetryable?: unknown }).isRetryable === 'boolean';
}

function errorFields(err: unknown): Record<string, unknown> {
  if (isUpstreamError(err)) return { code: err.code, kind: err.kind, upstream_status: err.upstreamStatus, message: err.message };
  if (isBridgeError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}

@injectable()
export class TaskService implements TaskApi {
  private readonly pollIntervalMs: number;
  private readonly deadlineMs: number;
  private readonly queryWaitMs: number;
  private readonly prices: Prices;
  private readonly idempotency: { ttlMs: number; pendingTtlMs: number; waitMs: number; pollMs: number; sleep: (ms: number) => Promise<void> };
  /** In-flight refreshes by task id: concurrent queries of one task in this process share one poll. */
  private readonly inFlight = new Map<string, Promise<TaskRecord>>();

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(USAGE_SINK) private readonly sink: UsageSink,
    @inject(CHANNEL_ROUTER) private readonly router: ChannelRouter,
    @inject(UPSTREAM_CLIENT) private readonly client: UpstreamClient,
    @inject(AdapterRegistry) private readonly registry: AdapterRegistry,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(NORMALIZE_OPTIONS) private readonly normalizeOptions: NormalizeOptions,
    @inject(TASK_OPTIONS, { isOptional: true }) options?: TaskServiceOptions,
    @inject(PRICES, { isOptional: true }) prices?: Prices,
    @inject(SUBMIT_LIMITER, { isOptional: true }) private readonly limiter?: SubmitLimiter,
  ) {
    this.pollIntervalMs = options?.pollIntervalMs ?? DEFAULT_TASK_OPTIONS.pollIntervalMs;
    this.deadlineMs = options?.deadlineMs ?? DEFAULT_TASK_OPTIONS.deadlineMs;
    this.queryWaitMs = options?.queryWaitMs ?? DEFAULT_TASK_OPTIONS.queryWaitMs;
    if (!(this.pollIntervalMs > 0) || !(this.deadlineMs > 0) || !(this.queryWaitMs > 0)) throw new RangeError('TaskService pollIntervalMs, deadlineMs and queryWaitMs must be positive');
    this.prices = prices ?? DEFAULT_PRICES;
    const d = DEFAULT_TASK_OPTIONS;
    this.idempotency = {
      ttlMs: options?.idempotencyTtlMs ?? d.idempotencyTtlMs,
      pendingTtlMs: options?.idempotencyPendingTtlMs ?? d.idempotencyPendingTtlMs,
      waitMs: options?.idempotencyWaitMs ?? d.idempotencyWaitMs,
      pollMs: options?.idempotencyPollMs ?? d.idempotencyPollMs,
      sleep: options?.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    };
    const { ttlMs, pendingTtlMs, waitMs, pollMs } = this.idempotency;
    if (!(ttlMs > 0) || !(pendingTtlMs > 0) || !(waitMs >= 0) || !(pollMs > 0)) throw new RangeError('TaskService idempotency options must be positive');
  }

  async submit(principal: Principal, raw: RawSubmit, ctx: RequestContext): Promise<PlatformTask> {
    // Everything that can reject the request happens before any upstream call.
    const intent = normalizePlatformRequest(raw, this.normalizeOptions);
    const channels = this.router.candidates(intent);
    const id = newTaskId(this.random);
    const log = withBindings(this.logger, { request_id: ctx.requestId, task_id: id });

    let idempotency: { key: string; entry: IdempotencyEntry } | undefined;
    if (ctx.idempotencyKey !== undefined) {
      const entry: IdempotencyEntry = { fingerprint: requestFingerprint(raw), taskId: id, state: 'pending' };
      const key = idempotencyStoreKey(principal.owner, ctx.idempotencyKey);
      const replay = await this.reserveIdempotencyKey(principal, key, entry, log);
      if (replay) return replay;
      idempotency = { key, entry };
    }

    let accepted = false;
    let stored = false;
    try {
      await this.admit(principal, id);
      const record = await this.submitToUpstream(principal, intent, channels, id, ctx, log, () => (accepted = true));
      stored = true;
      if (idempotency) await this.completeIdempotencyKey(idempotency.key, idempotency.entry, log);
      return toPlatformTask(record);
    } catch (err) {
      // A job the upstream accepted keeps its key reserved (it lapses after the pending TTL): a retry must not
      // start a second paid job for it.
      if (idempotency && !accepted) await this.store.releaseIdempotencyKey(idempotency.key, id).catch((e: unknown) => log.error({ error: errorFields(e) }, 'idempotency key not released'));
      if (!stored) await this.limiter?.release(principal.owner, id).catch((e: unknown) => log.error({ error: errorFields(e) }, 'open-task slot not released'));
      throw err;
    }
  }

  /** Sends the job to the first channel that takes it (failing over only when safe) and stores the record. */
  private async submitToUpstream(
    principal: Principal,
    intent: ImageIntent,
    channels: readonly Channel[],
    id: string,
    ctx: RequestContext,
    log: Logger,
    onAccepted: () => void,
  ): Promise<TaskRecord> {
    let lastError: UpstreamError | undefined;
    for (const channel of channels) {
      const adapter = this.registry.get(channel.adapterId);
      const built = adapter.buildSubmit(intent);
      let ref;
      try {
        const response = await this.send(ctx, channel, adapter, built.request, 'submit');
        ref = adapter.parseSubmit(response);
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        if (err.isRetryable || err.kind === 'auth') this.router.reportFailure(channel.id);
        lastError = err;
        if (!mayFailOver(err)) {
          log.warn({ channel: channel.id, model: intent.platformModel, error: errorFields(err) }, 'submit failed');
          throw err;
        }
        log.warn({ channel: channel.id, model: intent.platformModel, error: errorFields(err) }, 'submit failed on this channel; trying the next one');
        continue;
      }
      onAccepted();
      this.router.reportSuccess(channel.id);
      const now = this.clock.now();
      const record: TaskRecord = {
        id,
        owner: principal.owner,
        channelId: channel.id,
        adapterId: adapter.id,
        upstreamRef: ref,
        model: intent.platformModel,
        family: intent.family,
        taskType: intent.taskType,
        billing: intent.billing,
        status: 'queued',
        progress: 0,
        resultUrls: [],
        error: null,
        warnings: [...intent.warnings, ...built.warnings],
        metadata: built.metadata,
        createdAt: now,
        updatedAt: now,
        lastPolledAt: 0,
        usageSettled: false,
      };
      try {
        await this.store.create(record);
      } catch (err) {
        // The upstream has the job but we cannot remember it: say so loudly, with what is needed to find it.
        log.error({ channel: channel.id, upstream_task_id: ref.id, error: errorFields(err) }, 'task accepted upstream but not stored');
        throw new BridgeError('internal_error', 'The task could not be stored. Please retry later.');
      }
      log.info(
        { event: 'task_submitted', owner: principal.owner, key_label: principal.keyLabel, channel: channel.id, model: record.model, upstream_task_id: ref.id, warnings: record.warnings },
        'task submitted',
      );
      return record;
    }
    // candidates() never returns an empty list (it throws model_unavailable), so lastError is set here.
    throw lastError ?? new BridgeError('upstream_unavailable', 'No upstream channel accepted the task.');
  }

  /**
   * Reserves the Idempotency-Key for this submit, or answers the task an earlier submit with the same key and
   * body created. While another submit holds the key, waits for it (up to idempotencyWaitMs); if that submit
   * fails, its key is released and this one takes it over. Returns undefined when this caller holds the key.
   */
  private async reserveIdempotencyKey(principal: Principal, key: string, entry: IdempotencyEntry, log: Logger): Promise<PlatformTask | undefined> {
    const waits = Math.max(0, Math.ceil(this.idempotency.waitMs / this.idempotency.pollMs));
    for (let attempt = 0; ; attempt += 1) {
      const reservation = await this.store.reserveIdempotencyKey(key, entry, this.idempotency.pendingTtlMs);
      if (reservation.outcome === 'reserved') return undefined;
      const held = reservation.entry;
      if (held.fingerprint !== entry.fingerprint) {
        throw new BridgeError(
          'idempotency_conflict',
          'This Idempotency-Key was already used with a different request body. Send a new key for a new request, or resend the original body to get its task.',
          IDEMPOTENCY_HEADER,
        );
      }
      if (held.state === 'completed') {
        const record = await this.store.get(held.taskId);
        if (!record || record.owner !== principal.owner) {
          throw new BridgeError('idempotency_conflict', 'The task this Idempotency-Key created is no longer available. Send a new key.', IDEMPOTENCY_HEADER);
        }
        log.info({ event: 'idempotent_replay', original_task_id: record.id }, 'idempotent replay: answering the existing task');
        return toPlatformTask(record);
      }
      if (attempt >= waits) {
        throw new BridgeError(
          'idempotency_conflict',
          'A request with this Idempotency-Key is still being processed. Retry shortly with the same key and body to get its task.',
          IDEMPOTENCY_HEADER,
          { 'retry-after': '1' },
        );
      }
      await this.idempotency.sleep(this.idempotency.pollMs);
    }
  }

  private async completeIdempotencyKey(key: string, entry: IdempotencyEntry, log: Logger): Promise<void> {
    try {
      const ok = await this.store.completeIdempotencyKey(key, entry, this.idempotency.ttlMs);
      if (!ok) log.warn({ event: 'idempotency_key_lost' }, 'the idempotency reservation expired before the task was stored; another request took the key');
    } catch (err) {
      // The task exists and is answered; only a retry with the same key could now create a second one.
      log.error({ event: 'idempotency_key_not_completed', error: errorFields(err) }, 'idempotency key not completed');
    }
  }

  /** Applies the owner's abuse limits (rate, open tasks); throws rate_limited with Retry-After. */
  private async admit(principal: Principal, id: string): Promise<void> {
    if (!this.limiter) return;
    const admission = await this.limiter.admit(principal.owner, id);
    if (admission.admitted) return;
    const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    const message =
      admission.reason === 'rate'
        ? `Too many submits: at most ${admission.limit} per minute are accepted for this API key. Retry after ${seconds} s.`
        : `Too many unfinished tasks: at most ${admission.limit} may be queued or processing for this API key. Poll them (GET /v1/images/tasks/{task_id}) until they finish, then submit again.`;
    throw new BridgeError('rate_limited', message, undefined, { 'retry-after': String(seconds) });
  }

  async get(principal: Principal, taskId: string, ctx: RequestContext): Promise<PlatformTask> {
    if (!TASK_ID_PATTERN.test(taskId)) throw taskNotFound();
    const record = await this.store.get(taskId);
    // Unknown and foreign tasks answer alike: the answer never reveals that an id exists.
    if (!record || record.owner !== principal.owner) throw taskNotFound();
    const log = withBindings(this.logger, { request_id: ctx.requestId, task_id: taskId });
    if (isTerminal(record.status)) {
      // Settled normally when it became terminal; this catches a crash between the update and the settlement.
      if (!record.usageSettled) await this.settle(record, log, ctx);
      return toPlatformTask(record);
    }
    return toPlatformTask(await this.refreshWithin(record, ctx, log));
  }

  /** refresh(), but answers the stored record once queryWaitMs has passed (the poll goes on in the background). */
  private async refreshWithin(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    // Most queries of a busy task find no poll due and none running: no upstream wait to bound, so no timer.
    if (!this.inFlight.has(record.id) && !this.pollDue(record, this.clock.now())) return this.unpolled(record, ctx, log);
    const work = this.refresh(record, ctx, log);
    let timer: NodeJS.Timeout | undefined;
    const fallback = new Promise<TaskRecord>((resolve) => {
      timer = setTimeout(() => {
        log.warn({ event: 'poll_slow', channel: record.channelId, waited_ms: this.queryWaitMs }, 'upstream poll still running; answering the stored task');
        resolve(record);
      }, this.queryWaitMs);
    });
    try {
      // race() also handles a late rejection of `work`, so it can never become an unhandled rejection.
      return await Promise.race([work, fallback]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The freshest record this caller may have: polls when the interval has passed and this caller won the lease. */
  private async refresh(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    const running = this.inFlight.get(record.id);
    if (running) {
      // Joining another caller's poll is waiting on the upstream too.
      const started = performance.now();
      try {
        return await running;
      } finally {
        ctx.upstreamMs = (ctx.upstreamMs ?? 0) + (performance.now() - started);
      }
    }
    const work = this.refreshOnce(record, ctx, log).finally(() => this.inFlight.delete(record.id));
    this.inFlight.set(record.id, work);
    return work;
  }

  private async refreshOnce(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    if (this.pollDue(record, this.clock.now()) && (await this.store.tryAcquirePollLease(record.id, this.pollIntervalMs))) {
      let state: UpstreamTaskState | undefined;
      try {
        state = await this.pollUpstream(record, ctx);
      } catch (err) {
        // A failed poll does not fail the query: the client gets the last known state and asks again.
        log.warn({ event: 'poll_failed', channel: record.channelId, error: errorFields(err) }, 'upstream poll failed; answering the stored task');
        if (isUpstreamError(err) && err.isRetryable) this.router.reportFailure(record.channelId);
      }
      if (state) return this.applyState(record, state, ctx, log);
    }
    return this.unpolled(record, ctx, log);
  }

  /** A task's poll is due when it was never polled or the interval has passed since the last poll. */
  private pollDue(record: TaskRecord, now: number): boolean {
    return record.lastPolledAt === 0 || now - record.lastPolledAt >= this.pollIntervalMs;
  }

  /** The answer when no poll is made: the stored record, or the failed one once the task is past its deadline. */
  private async unpolled(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    return this.clock.now() - record.createdAt >= this.deadlineMs ? this.expire(record, ctx, log) : record;
  }

  /** One poll: the adapter's poll request, then its follow-ups, to an upstream-neutral state. */
  private async pollUpstream(record: TaskRecord, ctx: RequestContext): Promise<UpstreamTaskState> {
    const channel: Channel | undefined = this.router.byId(record.channelId);
    if (!channel) throw new UpstreamError('not_found', `The channel "${record.channelId}" that runs this task is no longer configured.`);
    const adapter: ImageAdapter = this.registry.get(record.adapterId);
    let request = adapter.buildPoll(record.upstreamRef);
    for (let hop = 0; ; hop += 1) {
      const response = await this.send(ctx, channel, adapter, request, 'poll');
      const outcome = adapter.parsePoll(response, record.upstreamRef);
      if (outcome.kind === 'state') {
        this.router.reportSuccess(channel.id);
        return outcome.state;
      }
      if (hop >= MAX_POLL_HOPS) throw new UpstreamError('malformed', `The upstream asked for more than ${MAX_POLL_HOPS} follow-up requests to read one task.`);
      request = outcome.request;
    }
  }

  /** Applies a polled state to the current stored record (which may have moved on), stores it, settles if it ended. */
  private async applyState(polled: TaskRecord, state: UpstreamTaskState, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    const current = (await this.store.get(polled.id)) ?? polled;
    if (isTerminal(current.status)) return current;
    const now = this.clock.now();
    // A failed task's upstream text reaches the client: remove the channel key itself, not only key-shaped text.
    const secrets = [this.router.byId(current.channelId)?.apiKey ?? ''].filter((k) => k !== '');
    const ended = applyUpstreamState(current, state, now, secrets);
    if (!ended && now - current.createdAt >= this.deadlineMs) return this.expire(current, ctx, log);
    await this.store.update(current);
    if (!ended) return current;
    return this.finish(current, ctx, log);
  }

  /** A task past its deadline fails with upstream_timeout (costs nothing). */
  private async expire(record: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    const now = this.clock.now();
    const minutes = Math.round(this.deadlineMs / 60_000);
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
  private async finish(written: TaskRecord, ctx: RequestContext, log: Logger): Promise<TaskRecord> {
    const stored = (await this.store.get(written.id)) ?? written;
    if (stored.status === written.status && stored.updatedAt === written.updatedAt) {
      const status = stored.status as 'succeeded' | 'failed';
      this.metrics.taskTerminal(stored.model, status);
      log.info({ event: 'task_terminal', model: stored.model, status, result_count: stored.resultUrls.length, error: stored.error }, 'task finished');
      // The slot also lapses on its own after the deadline, so a failure here costs the owner a slot only for a while.
      await this.limiter?.release(stored.owner, stored.id).catch((e: unknown) => log.warn({ error: errorFields(e) }, 'open-task slot not released'));
    }
    if (!stored.usageSettled) await this.settle(stored, log, ctx);
    return stored;
  }

  /** One upstream call; its wall time counts as this request's upstream wait. */
  private async send(ctx: RequestContext, channel: Channel, adapter: ImageAdapter, request: UpstreamRequest, operation: 'submit' | 'poll'): Promise<UpstreamResponse> {
    const started = performance.now();
    try {
      return await this.client.send(channel, adapter, request, operation);
    } finally {
      ctx.upstreamMs = (ctx.upstreamMs ?? 0) + (performance.now() - started);
    }
  }

  /** Settles usage if this caller wins the store's one-time claim. */
  private async settle(record: TaskRecord, log: Logger, ctx?: RequestContext): Promise<void> {
    if (!(await this.store.claimSettlement(record.id))) return;
    const status = record.status as 'succeeded' | 'failed';
    const event: UsageEvent = {
      task_id: record.id,
      owner: record.owner,
      model: record.model,
      ...(record.billing.tier ? { tier: record.billing.tier } : {}),
      ...(record.billing.quality ? { quality: record.billing.quality } : {}),
      requested_n: record.billing.units,
      result_count: record.resultUrls.length,
      status,
      cost: 0,
      currency: this.prices.currency,
      channel: record.channelId,
    };
    try {
      event.cost = computeCost(this.prices, record, record.resultUrls.length, status);
      await this.sink.record(event, ctx ? { requestId: ctx.requestId } : undefined);
    } catch (err) {
      // The claim is taken, so no other caller will retry: this line is what reconciliation works from.
      log.error({ event: 'usage_settlement_failed', usage: event, error: errorFields(err) }, 'usage could not be recorded');
      return;
    }
    this.metrics.settlement(record.model, status, event.cost);
    record.usageSettled = true;
    await this.store.update(record);
  }
}
