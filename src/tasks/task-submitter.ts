/**
 * TaskSubmitter: the submit unit. Admission (abuse limits), idempotency, routing and failover across
 * channels, then the stored record. Everything that can reject a request happens before any upstream call.
 */
import { inject, injectable } from 'tsyringe';
import type { Channel } from '../routing/channels';
import { isBytesImage, type SubmitOutcome as UpstreamSubmitOutcome, type UpstreamImage, type UpstreamRequest, type UpstreamTaskRef, type UpstreamTaskState } from '../adapter-kit/contract';
import type { BlobStore } from '../blobs/blob-store';
import type { BlobUrls } from '../blobs/blob-urls';
import type { ResultMirror } from '../blobs/result-mirror';
import { mirrorSucceededState } from './result-mirroring';
import { BLOB_STORE, BLOB_URLS, RESULT_MIRROR, RESULT_URL_CHECK, CLOCK, LOGGER, NORMALIZE_OPTIONS, RANDOM, SUBMIT_LIMITER, TASK_OPTIONS, TASK_STORE } from '../di/tokens';
import type { ImageIntent } from '../intent/intent';
import type { NormalizeOptions } from '../intent/normalize';
import { planRoutes } from '../routing/plan';
import { BridgeError, isUpstreamError, type UpstreamError } from '../platform/errors';
import type { RawSubmit } from '../platform/submit-request';
import { idempotencyStoreKey, intentFingerprint } from '../security/idempotency';
import { withBindings } from '../util/bound-logger';
import type { Clock, Logger, Random } from '../core/ports';
import type { SubmitLimiter } from '../security/ports';
import type { IdempotencyEntry, Principal, RequestContext, SubmitOptions, TaskStore } from './ports';
import { errorFields } from './task-errors';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './task-options';
import { defaultResultUrlCheck, type ResultUrlCheck } from '../security/result-url-policy';
import { storeReferences, storeResultImages } from './stored-images';
import { applyUpstreamState, newTaskRecord, type TaskRecord } from './task-record';
import { ChannelCalls } from './channel-calls';

/** The request header of idempotent submits, named in its errors. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Random bytes in a task id: 128 bits. */
const TASK_ID_BYTES = 16;

/** A new task id: `task_` + base64url of 128 random bits. */
export function newTaskId(random: Random): string {
  return `task_${random.bytes(TASK_ID_BYTES).toString('base64url')}`;
}

/** What a submit produced: the stored record, or the earlier task an idempotent replay answers. */
export type SubmitOutcome = { readonly kind: 'created'; readonly record: TaskRecord } | { readonly kind: 'replayed'; readonly record: TaskRecord };

/**
 * Whether a failed submit may go to the next channel without risking a second paid job: only when the
 * upstream provably did not take it (connection refused, or it answered 429/5xx/auth failure). A timeout or
 * a broken connection may hide an accepted job, so it is never sent again.
 */
export function mayFailOver(err: UpstreamError): boolean {
  if (err.kind === 'connection_refused') return true;
  const answered = err.upstreamStatus !== undefined;
  return answered && (err.kind === 'rate_limited' || err.kind === 'server_error' || err.kind === 'auth');
}

/** Margin of the submit's timeout beyond the wait a channel asks for (the upstream's answer must still arrive). */
const PREFER_WAIT_MARGIN_MS = 15_000;

/**
 * The submit request of a channel with `prefer_wait_seconds`: RFC 7240 `Prefer: wait=N` (Replicate's sync mode)
 * and a timeout that outlasts the wait. Other channels' requests are unchanged.
 */
export function withPreferWait(request: UpstreamRequest, channel: Channel): UpstreamRequest {
  const seconds = channel.preferWaitSeconds;
  if (seconds === undefined) return request;
  return { ...request, headers: { ...request.headers, Prefer: `wait=${seconds}` }, timeoutMs: Math.max(request.timeoutMs ?? 0, preferWaitTimeoutMs(seconds)) };
}

/** The submit timeout of a channel that asks the upstream to wait `seconds` (the idempotency key must outlive it). */
export function preferWaitTimeoutMs(seconds: number): number {
  return seconds * 1000 + PREFER_WAIT_MARGIN_MS;
}

@injectable()
export class TaskSubmitter {
  private readonly options: ResolvedTaskOptions;

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(ChannelCalls) private readonly calls: ChannelCalls,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(NORMALIZE_OPTIONS) private readonly normalizeOptions: NormalizeOptions,
    @inject(TASK_OPTIONS, { isOptional: true }) options?: TaskOptions,
    @inject(SUBMIT_LIMITER, { isOptional: true }) private readonly limiter?: SubmitLimiter,
    @inject(BLOB_STORE, { isOptional: true }) private readonly blobs?: BlobStore,
    @inject(BLOB_URLS, { isOptional: true }) private readonly blobUrls?: BlobUrls,
    @inject(RESULT_URL_CHECK, { isOptional: true }) private readonly checkResultUrl?: ResultUrlCheck,
    @inject(RESULT_MIRROR, { isOptional: true }) private readonly mirror?: ResultMirror,
  ) {
    this.options = resolveTaskOptions(options);
  }

  /** Validates, admits, routes and submits; the new record, or the task an earlier submit with the same key made. */
  async submit(principal: Principal, raw: RawSubmit, ctx: RequestContext, submitOptions: SubmitOptions = {}): Promise<SubmitOutcome> {
    // The pipeline translate runs too (src/routing/plan.ts): normalize, then route, here to channels.
    const { intent, routes: channels } = planRoutes(raw, this.normalizeOptions, (i) => this.calls.router.candidates(i));
    const id = newTaskId(this.random);
    const log = withBindings(this.logger, { request_id: ctx.requestId, task_id: id });

    let idempotency: { key: string; entry: IdempotencyEntry } | undefined;
    if (ctx.idempotencyKey !== undefined) {
      // The normalized request, not the body text: "seed": null and an absent seed are one request (issue 10).
      const fingerprint = intentFingerprint(intent, submitOptions.callbackUrl !== undefined ? { callbackUrl: submitOptions.callbackUrl } : {});
      const entry: IdempotencyEntry = { fingerprint, taskId: id, state: 'pending' };
      const key = idempotencyStoreKey(principal.owner, ctx.idempotencyKey);
      const replay = await this.reserveIdempotencyKey(principal, key, entry, log);
      if (replay) return { kind: 'replayed', record: replay };
      idempotency = { key, entry };
    }

    let accepted = false;
    let stored = false;
    try {
      await this.admit(principal, id);
      const record = await this.submitToUpstream(principal, intent, channels, id, ctx, log, submitOptions, () => (accepted = true));
      stored = true;
      if (idempotency) await this.completeIdempotencyKey(idempotency.key, idempotency.entry, log);
      return { kind: 'created', record };
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
    submitOptions: SubmitOptions,
    onAccepted: () => void,
  ): Promise<TaskRecord> {
    let lastError: UpstreamError | undefined;
    for (const [index, channel] of channels.entries()) {
      const adapter = this.calls.adapter(channel.adapterId);
      // A synchronous upstream generates inside its submit call: the engine makes it, never this POST.
      if (adapter.synchronous) return this.deferToEngine(principal, intent, channels.slice(index), id, log, submitOptions, onAccepted);
      const built = adapter.buildSubmit(intent);
      let outcome: UpstreamSubmitOutcome;
      try {
        const response = await this.calls.send(ctx, channel, adapter, withPreferWait(built.request, channel), 'submit', principal.owner);
        outcome = adapter.parseSubmit(response);
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        if (err.isRetryable || err.kind === 'auth') this.calls.router.reportFailure(channel.id);
        lastError = err;
        if (!mayFailOver(err)) {
          log.warn({ channel: channel.id, model: intent.platformModel, error: errorFields(err) }, 'submit failed');
          throw err;
        }
        log.warn({ channel: channel.id, model: intent.platformModel, error: errorFields(err) }, 'submit failed on this channel; trying the next one');
        continue;
      }
      onAccepted();
      this.calls.router.reportSuccess(channel.id);
      const ref: UpstreamTaskRef = outcome.kind === 'handle' ? outcome.ref : { id: '' };
      const record = newTaskRecord({
        id,
        owner: principal.owner,
        channelId: channel.id,
        adapterId: adapter.id,
        upstreamRef: ref,
        intent,
        built,
        now: this.clock.now(),
        ...(submitOptions.callbackUrl !== undefined ? { callbackUrl: submitOptions.callbackUrl } : {}),
      });
      if (outcome.kind === 'final') await this.applyFinalAnswer(record, outcome.state, log, channel);
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
   * A synchronous upstream's task: stored queued with its pending run (`syncRun`: the intent, its uploaded
   * references kept in the BlobStore, and the channels still to try); the engine makes the call.
   */
  private async deferToEngine(
    principal: Principal,
    intent: ImageIntent,
    channels: readonly Channel[],
    id: string,
    log: Logger,
    submitOptions: SubmitOptions,
    onAccepted: () => void,
  ): Promise<TaskRecord> {
    const first = channels[0] as Channel;
    const adapter = this.calls.adapter(first.adapterId);
    // Built now for its warnings and metadata (pure); the engine builds the calls again from the stored intent.
    const built = adapter.buildSubmit(intent);
    const blobs = this.blobs;
    if (!blobs) throw new BridgeError('internal_error', 'A synchronous upstream needs a BlobStore and none is registered.');
    const stored = await storeReferences(intent, blobs);
    const record = newTaskRecord({
      id,
      owner: principal.owner,
      channelId: first.id,
      adapterId: adapter.id,
      upstreamRef: { id: '' },
      intent,
      built,
      now: this.clock.now(),
      syncRun: { intent: stored, channels: channels.map((c) => c.id) },
      ...(submitOptions.callbackUrl !== undefined ? { callbackUrl: submitOptions.callbackUrl } : {}),
    });
    await this.store.create(record);
    onAccepted();
    log.info(
      { event: 'task_submitted', owner: principal.owner, channel: first.id, model: record.model, synchronous: true, warnings: record.warnings },
      'task submitted; the engine makes the synchronous upstream call',
    );
    return record;
  }

  /** An upstream that answered the result in its submit response: store its bytes, then the task is terminal (settled by the engine). */
  private async applyFinalAnswer(record: TaskRecord, answered: UpstreamTaskState, log: Logger, channel: Channel): Promise<void> {
    let state = answered;
    const mirroredUrls: string[] = [];
    // A channel with mirror_results: its URL images are copied now (the record is not stored yet: no one else has it).
    if (state.status === 'succeeded' && channel.mirrorResults === true && this.mirror !== undefined) {
      const mirrored = await mirrorSucceededState(state, record.billing.requestedImages, this.mirror, this.checkResultUrl ?? defaultResultUrlCheck, log);
      state = mirrored.state;
      mirroredUrls.push(...mirrored.storedUrls);
      if (mirrored.warnings.length > 0) record.warnings = [...record.warnings, ...mirrored.warnings];
    }
    let images = state.images;
    if (this.blobs && this.blobUrls) {
      images = await storeResultImages(state.images, this.blobs, this.blobUrls).catch((err: unknown) => {
        log.error({ event: 'result_not_stored', error: errorFields(err) }, 'an upstream image could not be stored');
        return [];
      });
    }
    const stored = images.every((i) => !isBytesImage(i)) ? images : [];
    const ok = state.status !== 'succeeded' || stored.length > 0;
    // URLs of images the bridge stored are its own; the result-URL policy judges an upstream's.
    const own = new Set([...mirroredUrls, ...stored.flatMap((image, i) => (state.images[i] !== undefined && isBytesImage(state.images[i] as UpstreamImage) && !isBytesImage(image) ? [image.url] : []))]);
    const judge = (url: string): string | undefined => (own.has(url) ? undefined : (this.checkResultUrl ?? defaultResultUrlCheck)(url));
    applyUpstreamState(record, ok ? { ...state, images: stored } : { status: 'failed', images: [], error: { code: 'internal_error', message: 'The images the upstream returned could not be stored.' } }, this.clock.now(), [], judge);
  }

  /**
   * Reserves the Idempotency-Key for this submit, or answers the task an earlier submit with the same key and
   * body created. While another submit holds the key, waits for it (up to idempotencyWaitMs); if that submit
   * fails, its key is released and this one takes it over. Returns undefined when this caller holds the key.
   */
  private async reserveIdempotencyKey(principal: Principal, key: string, entry: IdempotencyEntry, log: Logger): Promise<TaskRecord | undefined> {
    const { idempotencyWaitMs, idempotencyPollMs, idempotencyPendingTtlMs, sleep } = this.options;
    const waits = Math.max(0, Math.ceil(idempotencyWaitMs / idempotencyPollMs));
    for (let attempt = 0; ; attempt += 1) {
      const reservation = await this.store.reserveIdempotencyKey(key, entry, idempotencyPendingTtlMs);
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
        return record;
      }
      // A pending entry whose task exists: the submit that reserved it stored the task, then died before
      // completing the key (a crash). Answer that task now instead of making every retry wait and fail.
      const stored = await this.store.get(held.taskId);
      if (stored && stored.owner === principal.owner) {
        await this.completeIdempotencyKey(key, held, log);
        log.info({ event: 'idempotent_replay', original_task_id: stored.id, pending: true }, 'idempotent replay: the key was still pending but its task exists; answering it');
        return stored;
      }
      if (attempt >= waits) {
        throw new BridgeError(
          'idempotency_conflict',
          'A request with this Idempotency-Key is still being processed. Retry shortly with the same key and body to get its task.',
          IDEMPOTENCY_HEADER,
          { 'retry-after': '1' },
        );
      }
      await sleep(idempotencyPollMs);
    }
  }

  private async completeIdempotencyKey(key: string, entry: IdempotencyEntry, log: Logger): Promise<void> {
    try {
      const ok = await this.store.completeIdempotencyKey(key, entry, this.options.idempotencyTtlMs);
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
}
