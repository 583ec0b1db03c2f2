/**
 * SyncRunner: the call of a synchronous upstream (an adapter with `synchronous: true`, e.g. OpenAI's Images
 * API), made by the task engine in the background, never inside the client's POST (docs/reliability.md).
 *
 * - Once only: the run is claimed atomically in the task store before the first byte is sent, and the claim is
 *   never given back. An instance that dies mid-call leaves a run that nobody sends again: once `lostAt` has
 *   passed, the next advance fails the task with `upstream_call_lost` (the upstream may have charged the call).
 * - Fan-out: when n is above the family's `imagesPerCall`, the intent is sent as ceil(n / imagesPerCall) calls
 *   at once (the last one asks for the rest), each made once and counted (`upstreamCalls`). Results keep the
 *   order of the calls. When some calls fail and others answer, the task succeeds with the images it got, a
 *   `partial_result` warning says how many calls failed and why, and usage counts the images returned (so a
 *   per-image price charges only those). When every call fails, the task fails with the first call's error.
 * - Failover: only when every call provably never reached the channel (connection refused, or an answer of
 *   429/5xx/auth), the run moves to the next channel that serves the intent; a timeout is never sent again.
 * - Bytes: images answered as bytes go to the BlobStore; the task keeps their URLs.
 * - Reference bytes: for an adapter that takes reference files (`referenceBytes`), every http(s) reference is
 *   fetched into a data: URI first (src/tasks/reference-bytes.ts); one that cannot be fetched fails the task
 *   with `reference_unavailable` before any upstream call.
 */
import { inject, injectable } from 'tsyringe';
import { isBytesImage, type ImageAdapter, type SubmitOutcome, type UpstreamImage, type UpstreamTaskRef, type UpstreamTaskState, type UpstreamUrlImage } from '../adapter-kit/contract';
import type { BlobStore } from '../blobs/blob-store';
import type { BlobUrls } from '../blobs/blob-urls';
import type { ResultMirror } from '../blobs/result-mirror';
import { BLOB_STORE, BLOB_URLS, CLOCK, REFERENCE_FETCHER, RESULT_MIRROR, RESULT_URL_CHECK, TASK_OPTIONS, TASK_STORE } from '../di/tokens';
import { defaultResultUrlCheck, type ResultUrlCheck } from '../security/result-url-policy';
import { mirrorSucceededState } from './result-mirroring';
import type { ImageIntent, Warning } from '../intent/intent';
import { isUpstreamError, type UpstreamError } from '../platform/errors';
import type { Clock, Logger } from '../core/ports';
import type { TaskStore } from './ports';
import { defaultReferenceFetcher, fetchReferenceBytes, needsReferenceBytes, type ReferenceFetcher } from './reference-bytes';
import { loadReferences, storeResultImages } from './stored-images';
import { errorFields } from './task-errors';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './task-options';
import type { TaskRecord } from './task-record';
import { mayFailOver } from './task-submitter';
import { ChannelCalls } from './channel-calls';

/** Time a call may take when its adapter names none (the client's submit timeout default). */
const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** Margin after a call's own timeout before its run counts as lost (the instance may be slow to write the result). */
export const SYNC_LOST_GRACE_MS = 60_000;

/** What one advance of a synchronous task found. */
export type SyncStep =
  /** Nothing to do now: the run is going on (here or on another instance), or it answered a handle to poll. */
  | { readonly kind: 'wait' }
  /** The run ended (or was lost): apply this state (its images are URLs; `storedUrls` are the bridge's own). */
  | { readonly kind: 'state'; readonly state: UpstreamTaskState; readonly storedUrls?: readonly string[] };

/** The outcome of one call. */
type CallResult = { readonly ok: true; readonly outcome: SubmitOutcome } | { readonly ok: false; readonly error: UpstreamError };

/** Splits n images into per-call counts: [per, per, ..., rest]. */
export function fanOutCounts(count: number, imagesPerCall: number): number[] {
  const per = Math.max(1, Math.floor(imagesPerCall));
  const counts: number[] = [];
  for (let left = count; left > 0; left -= per) counts.push(Math.min(per, left));
  return counts;
}

@injectable()
export class SyncRunner {
  private readonly options: ResolvedTaskOptions;

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(ChannelCalls) private readonly calls: ChannelCalls,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(TASK_OPTIONS, { isOptional: true }) options?: TaskOptions,
    @inject(BLOB_STORE, { isOptional: true }) private readonly blobStore?: BlobStore,
    @inject(BLOB_URLS, { isOptional: true }) private readonly blobUrls?: BlobUrls,
    @inject(REFERENCE_FETCHER, { isOptional: true }) private referenceFetcher?: ReferenceFetcher,
    @inject(RESULT_MIRROR, { isOptional: true }) private readonly mirror?: ResultMirror,
    @inject(RESULT_URL_CHECK, { isOptional: true }) private readonly checkResultUrl?: ResultUrlCheck,
  ) {
    this.options = resolveTaskOptions(options);
  }

  private get fetcher(): ReferenceFetcher {
    this.referenceFetcher ??= defaultReferenceFetcher();
    return this.referenceFetcher;
  }

  private get blobs(): BlobStore {
    if (!this.blobStore) throw new Error('A synchronous upstream needs a BlobStore and none is registered.');
    return this.blobStore;
  }

  private get urls(): BlobUrls {
    if (!this.blobUrls) throw new Error('A synchronous upstream needs BlobUrls and none is registered.');
    return this.blobUrls;
  }

  /**
   * One advance of a task whose `syncRun` is set: start the run (once; only when `mayStart`, i.e. the engine,
   * never a client's request), wait for it, or declare it lost.
   */
  async step(record: TaskRecord, log: Logger, mayStart: boolean): Promise<SyncStep> {
    const run = record.syncRun;
    if (run === undefined) return { kind: 'wait' };
    const now = this.clock.now();
    if (run.startedAt !== undefined) return run.lostAt !== undefined && now >= run.lostAt ? this.lost(record, log) : { kind: 'wait' };
    if (!mayStart) return { kind: 'wait' };
    // The claim is the store's atomic reservation, kept past the task's deadline: at most one caller ever sends.
    const claim = await this.store.reserveIdempotencyKey(`sync-run:${record.id}`, { fingerprint: 'sync-run', taskId: record.id, state: 'pending' }, this.options.deadlineMs * 2);
    if (claim.outcome !== 'reserved') {
      // Claimed by a caller that has not written its start yet, or died before it could: lost after the longest run.
      return now - record.createdAt >= this.options.deadlineMs ? this.lost(record, log) : { kind: 'wait' };
    }
    return this.execute(record, log);
  }

  /** The claimed run: mark it started, make the calls (failing over when safe), and reduce them to one state. */
  private async execute(record: TaskRecord, log: Logger): Promise<SyncStep> {
    const run = record.syncRun as NonNullable<TaskRecord['syncRun']>;
    let intent: ImageIntent;
    try {
      intent = await loadReferences(run.intent, this.blobs);
    } catch (err) {
      log.error({ event: 'sync_run_failed', error: errorFields(err) }, 'synchronous run could not be prepared');
      return { kind: 'state', state: failed('internal_error', 'The task could not be prepared for its upstream call (a stored reference image is missing).') };
    }
    const channels = run.channels.length > 0 ? run.channels : [record.channelId];
    let firstError: UpstreamError | undefined;
    let withBytes: ImageIntent | undefined;
    for (const [index, channelId] of channels.entries()) {
      const channel = this.calls.router.byId(channelId);
      if (!channel) continue;
      const adapter = this.calls.adapter(channel.adapterId);
      let callIntent = intent;
      if (adapter.referenceBytes === true && needsReferenceBytes(intent)) {
        try {
          withBytes ??= await fetchReferenceBytes(intent, this.fetcher);
        } catch (err) {
          log.warn({ event: 'reference_unavailable', channel: channel.id, error: errorFields(err) }, 'a reference image could not be fetched for an upstream that takes files');
          return { kind: 'state', state: failed('reference_unavailable', (err as Error).message) };
        }
        callIntent = withBytes;
      }
      const counts = fanOutCounts(callIntent.count, adapter.capabilities[callIntent.family]?.imagesPerCall ?? callIntent.count);
      const builds = counts.map((count) => adapter.buildSubmit({ ...callIntent, count, billing: { ...callIntent.billing, requestedImages: count } }));
      const timeoutMs = Math.max(...builds.map((b) => b.request.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
      const startedAt = this.clock.now();
      record.channelId = channel.id;
      record.adapterId = adapter.id;
      record.status = 'processing';
      record.syncRun = { ...run, startedAt, lostAt: startedAt + timeoutMs + SYNC_LOST_GRACE_MS };
      record.upstreamCalls = builds.length;
      record.updatedAt = startedAt;
      await this.store.update(record);
      log.info({ event: 'sync_run_started', channel: channel.id, calls: builds.length }, 'synchronous upstream call started');

      const results = await Promise.all(
        builds.map(async (built): Promise<CallResult> => {
          try {
            const response = await this.calls.send(undefined, channel, adapter, built.request, 'submit', record.owner);
            return { ok: true, outcome: adapter.parseSubmit(response) };
          } catch (err) {
            if (!isUpstreamError(err)) throw err;
            return { ok: false, error: err };
          }
        }),
      );
      const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
      firstError ??= errors[0];
      if (errors.length === results.length && errors.every(mayFailOver) && index < channels.length - 1) {
        this.calls.router.reportFailure(channel.id);
        log.warn({ event: 'sync_run_failover', channel: channel.id, error: errorFields(errors[0]) }, 'synchronous call did not reach this channel; trying the next one');
        continue;
      }
      if (errors.length < results.length) this.calls.router.reportSuccess(channel.id);
      return this.reduce(record, adapter, results, log, channel.mirrorResults === true);
    }
    const error = firstError;
    return { kind: 'state', state: failed(error?.code ?? 'upstream_unavailable', error?.message ?? 'No configured channel could run this task.') };
  }

  /** The calls' results as one state, in call order (see the file comment for partial results). */
  private async reduce(record: TaskRecord, adapter: ImageAdapter, results: readonly CallResult[], log: Logger, mirrorResults: boolean): Promise<SyncStep> {
    const handles = results.flatMap((r) => (r.ok && r.outcome.kind === 'handle' ? [r.outcome.ref] : []));
    if (results.length === 1 && handles.length === 1) return this.switchToPolling(record, handles[0] as UpstreamTaskRef, log);
    const images: UpstreamUrlImage[] = [];
    const storedUrls: string[] = [];
    const failures: Array<{ code: string; message: string }> = [];
    const warnings: Warning[] = [];
    for (const result of results) {
      if (!result.ok) {
        failures.push({ code: result.error.code, message: result.error.message });
        continue;
      }
      if (result.outcome.kind === 'handle') {
        failures.push({ code: 'upstream_error', message: `${adapter.id} answered a job to poll instead of images; a fanned-out call must answer its images.` });
        continue;
      }
      let { state } = result.outcome;
      // A channel with mirror_results: URL images are copied too (this run is claimed: no one else applies it).
      if (state.status === 'succeeded' && mirrorResults && this.mirror !== undefined) {
        const mirrored = await mirrorSucceededState(state, state.images.length, this.mirror, this.checkResultUrl ?? defaultResultUrlCheck, log);
        state = mirrored.state;
        storedUrls.push(...mirrored.storedUrls);
        warnings.push(...mirrored.warnings);
      }
      if (state.status !== 'succeeded') {
        failures.push(state.error ?? { code: 'generation_failed', message: 'The upstream reported a failure without a reason.' });
        continue;
      }
      try {
        const stored = await storeResultImages(state.images, this.blobs, this.urls);
        stored.forEach((image, i) => {
          if (state.images[i] !== undefined && isBytesImage(state.images[i] as UpstreamImage)) storedUrls.push(image.url);
        });
        images.push(...stored);
      } catch (err) {
        log.error({ event: 'result_not_stored', error: errorFields(err) }, 'an upstream image could not be stored');
        failures.push({ code: 'internal_error', message: 'An image the upstream returned could not be stored.' });
      }
    }
    const first = failures[0];
    if (images.length === 0) return { kind: 'state', state: failed(first?.code ?? 'no_output', first?.message ?? 'The upstream finished without returning any image.') };
    if (first !== undefined) {
      warnings.push({
        code: 'partial_result',
        param: 'n',
        message: `${failures.length} of ${results.length} upstream calls failed (first: ${first.code}: ${first.message.slice(0, 200)}); the task has ${images.length} of ${record.billing.requestedImages} images, and only those are charged.`,
      });
    }
    if (warnings.length > 0) {
      const current = (await this.store.get(record.id)) ?? record;
      await this.store.update({ ...current, warnings: [...current.warnings, ...warnings] });
    }
    return { kind: 'state', state: { status: 'succeeded', progress: 100, images }, storedUrls };
  }

  /** A synchronous upstream that answered a job to poll (e.g. Replicate's `Prefer: wait` that ran out): poll it. */
  private async switchToPolling(record: TaskRecord, ref: UpstreamTaskRef, log: Logger): Promise<SyncStep> {
    const current = (await this.store.get(record.id)) ?? record;
    const next: TaskRecord = { ...current, upstreamRef: ref, lastPolledAt: 0, updatedAt: this.clock.now() };
    delete next.syncRun;
    await this.store.update(next);
    log.info({ event: 'sync_run_handle', upstream_task_id: ref.id }, 'synchronous call answered a job to poll');
    return { kind: 'wait' };
  }

  /** A run whose instance died mid-call: failed, never sent again. */
  private lost(record: TaskRecord, log: Logger): SyncStep {
    log.error({ event: 'sync_run_lost', channel: record.channelId, started_at: record.syncRun?.startedAt }, 'synchronous upstream call lost with its instance');
    return {
      kind: 'state',
      state: failed(
        'upstream_call_lost',
        'The bridge instance making this task\'s upstream call stopped before the upstream answered. The call is not sent again, because the upstream may already have charged it; submit a new task.',
      ),
    };
  }
}

function failed(code: string, message: string): UpstreamTaskState {
  return { status: 'failed', progress: 100, images: [], error: { code, message } };
}
