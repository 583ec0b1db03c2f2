/**
 * The stored task record and its mapping to the platform task object.
 */
import { isBytesImage, type UpstreamImage, type UpstreamTaskRef } from '../adapter-kit/contract';
import type { BillingInfo, ImageIntent, Warning } from '../intent/intent';
import type { Family, TaskType } from '../platform/catalog';
import { isTerminal, type PlatformTask, type TaskStatus } from '../platform/task';
import { defaultResultUrlCheck, type ResultUrlCheck } from '../security/result-url-policy';
import { redactSecrets } from '../upstream/redact';

/** Everything the bridge keeps about one task. Plain JSON: stores serialize it as is. */
export interface TaskRecord {
  /** Our task id: `task_` + 128+ random bits, base64url. */
  readonly id: string;
  /** Owner (from the API key); only the owner can see the task. */
  readonly owner: string;
  /** Channel that accepted the job; polls always go there (a synchronous run may fail over before its call arrives). */
  channelId: string;
  /** Adapter of that channel. */
  adapterId: string;
  /** Handle on the upstream job (`{ id: '' }` while a synchronous run has not answered one). */
  upstreamRef: UpstreamTaskRef;
  /** Platform model name. */
  readonly model: string;
  /** Model family. */
  readonly family: Family;
  /** Task type. */
  readonly taskType: TaskType;
  /** Billing facts fixed at submit. */
  readonly billing: BillingInfo;
  /** Current platform status. */
  status: TaskStatus;
  /** Progress 0-100, never decreasing. */
  progress: number;
  /** Result image URLs, on success. */
  resultUrls: string[];
  /** Failure, when failed. */
  error: { code: string; message: string } | null;
  /** Warnings from normalization and the adapter, and those added when the results arrived. */
  warnings: readonly Warning[];
  /** Adapter facts for metadata (e.g. requested_size / actual_size). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Creation time, ms since epoch. */
  readonly createdAt: number;
  /** Last change, ms since epoch. */
  updatedAt: number;
  /** Last upstream poll, ms since epoch (0: never). */
  lastPolledAt: number;
  /** True once usage has been recorded by the sink and confirmed (at least once, keyed by task id). */
  usageSettled: boolean;
  /** Where the terminal task is delivered (the submit's `callback_url`), when the client asked for it. */
  readonly callbackUrl?: string;
  /** True once the TaskNotifier has accepted the terminal task for delivery to `callbackUrl`. */
  notified?: boolean;
  /** A synchronous upstream's call, still to be made (or running) by the engine; absent for queue-and-poll upstreams. */
  syncRun?: SyncRun;
  /** Upstream calls the task was fanned out to (absent: one), each one accounted in the usage event. */
  upstreamCalls?: number;
}

/**
 * The pending call of a synchronous upstream (src/tasks/sync-runner.ts). The engine makes it once: it is
 * claimed atomically before the first byte is sent, and a run whose instance died is failed, never sent again.
 */
export interface SyncRun {
  /** What to send: the intent, its uploaded references kept in the BlobStore (`blob:<key>`), never as bytes. */
  readonly intent: ImageIntent;
  /** Channel ids to try, in order (the first is the task's channel); the next only when a call provably never arrived. */
  readonly channels: readonly string[];
  /** When an instance started the call, ms since epoch; unset until then. */
  startedAt?: number;
  /** A started run not finished by then (ms since epoch) was lost with its instance. */
  lostAt?: number;
}

/**
 * A record read back from a store that outlives the process (Redis). Records written before billing named the
 * requested count `requestedImages` carry `billing.units`, and a copy of the model in `billing.model` (the
 * model is the record's `model`): they are read as today's records, so an upgrade bills open tasks unchanged.
 */
export function readStoredRecord(json: string): TaskRecord {
  const record = JSON.parse(json) as TaskRecord;
  const billing = record.billing as BillingInfo & { units?: number; model?: string };
  if (billing.units === undefined && billing.model === undefined) return record;
  const { units, model: _model, ...rest } = billing;
  return { ...record, billing: { ...rest, requestedImages: rest.requestedImages ?? units ?? 1 } };
}

/** What a new task record is made of: the accepted submit. */
export interface NewTaskRecord {
  readonly id: string;
  readonly owner: string;
  channelId: string;
  adapterId: string;
  readonly upstreamRef: UpstreamTaskRef;
  readonly intent: Pick<ImageIntent, 'platformModel' | 'family' | 'taskType' | 'billing' | 'warnings'>;
  /** Warnings and metadata of the adapter's build. */
  readonly built: { readonly warnings: readonly Warning[]; readonly metadata: Readonly<Record<string, unknown>> };
  readonly now: number;
  readonly callbackUrl?: string;
  /** A synchronous upstream's pending call (the engine makes it). */
  readonly syncRun?: SyncRun;
}

/** The one way a task record is made: queued, no progress, nothing polled or settled yet. */
export function newTaskRecord(n: NewTaskRecord): TaskRecord {
  return {
    id: n.id,
    owner: n.owner,
    channelId: n.channelId,
    adapterId: n.adapterId,
    upstreamRef: n.upstreamRef,
    model: n.intent.platformModel,
    family: n.intent.family,
    taskType: n.intent.taskType,
    billing: n.intent.billing,
    status: 'queued',
    progress: 0,
    resultUrls: [],
    error: null,
    warnings: [...n.intent.warnings, ...n.built.warnings],
    metadata: n.built.metadata,
    createdAt: n.now,
    updatedAt: n.now,
    lastPolledAt: 0,
    usageSettled: false,
    ...(n.callbackUrl !== undefined ? { callbackUrl: n.callbackUrl, notified: false } : {}),
    ...(n.syncRun !== undefined ? { syncRun: n.syncRun } : {}),
  };
}

/** The platform task object of a record (docs/api.md, "The task"). */
export function toPlatformTask(record: TaskRecord): PlatformTask {
  const metadata: PlatformTask['metadata'] = {
    task_type: record.taskType,
    result_count: record.resultUrls.length,
    ...record.metadata,
  };
  if (record.status === 'succeeded') metadata.result_urls = [...record.resultUrls];
  if (record.warnings.length > 0) metadata.warnings = record.warnings.map((w) => ({ ...w }));
  return {
    task_id: record.id,
    status: record.status,
    progress: `${Math.round(record.progress)}%`,
    result_url: record.status === 'succeeded' ? (record.resultUrls[0] ?? null) : null,
    metadata,
    error: record.status === 'failed' ? (record.error ?? { code: 'upstream_error', message: 'The task failed.' }) : null,
  };
}

/** The URL of a result image; bytes must have been stored in the BlobStore first (storeImageBytes). */
function imageUrl(image: UpstreamImage): string {
  if (isBytesImage(image)) throw new Error('An image given as bytes reached the task record before it was stored in the BlobStore.');
  return image.url;
}

/** Longest upstream failure text kept on a task. */
const MAX_ERROR_MESSAGE = 1000;

/**
 * Upstream failure text reaches the platform task through a poll body, not through the upstream client's
 * error path, so it is redacted here: the channel key (when given) literally, and credential shapes by pattern.
 */
function cleanUpstreamError(error: { code: string; message: string }, secrets: readonly string[]): { code: string; message: string } {
  return { code: redactSecrets(error.code, secrets).slice(0, 100), message: redactSecrets(error.message.slice(0, MAX_ERROR_MESSAGE * 2), secrets).slice(0, MAX_ERROR_MESSAGE) };
}

/** Refusal reasons quoted in one warning (the rest are counted). */
const MAX_QUOTED_REFUSALS = 5;

/**
 * The result URLs a record keeps: those the policy accepts, in order, at most `n` (the requested count). An
 * upstream that over-returns is billed for `n` at most (docs/reliability.md, "hostile upstreams"); refused and
 * dropped URLs are reported as warnings, never silently.
 */
export function selectResults(images: ReadonlyArray<{ url: string }>, n: number, check: ResultUrlCheck): { urls: string[]; warnings: Warning[]; refused: string[] } {
  const urls: string[] = [];
  const refused: string[] = [];
  let extra = 0;
  images.forEach((image, index) => {
    const reason = check(image.url);
    if (reason !== undefined) refused.push(`result ${index + 1}: ${reason}`);
    else if (urls.length < n) urls.push(image.url);
    else extra += 1;
  });
  const warnings: Warning[] = [];
  if (refused.length > 0) {
    const quoted = refused.slice(0, MAX_QUOTED_REFUSALS).join('; ');
    const more = refused.length > MAX_QUOTED_REFUSALS ? `; and ${refused.length - MAX_QUOTED_REFUSALS} more` : '';
    warnings.push({ code: 'result_url_refused', param: 'result_urls', message: `The upstream returned ${refused.length} result URL${refused.length === 1 ? '' : 's'} that ${refused.length === 1 ? 'is' : 'are'} not passed on (${quoted}${more}).` });
  }
  if (extra > 0) {
    warnings.push({ code: 'results_truncated', param: 'n', message: `The upstream returned ${urls.length + extra} images for n=${n}; the first ${n} ${n === 1 ? 'is' : 'are'} kept and billed, ${extra} dropped.` });
  }
  return { urls, warnings, refused };
}

/**
 * Applies an upstream state to a record: status moves forward only, progress never decreases and is
 * 100 only when terminal. Upstream error text is redacted (`secrets`: e.g. the channel's key). Result URLs
 * pass `checkResultUrl` (http(s) only by default) and at most the requested count is kept; a success whose
 * every URL is refused is a failure. Returns true when the record became terminal by this call.
 */
export function applyUpstreamState(
  record: TaskRecord,
  state: { status: TaskStatus; progress?: number; images: ReadonlyArray<UpstreamImage>; error?: { code: string; message: string } },
  now: number,
  secrets: readonly string[] = [],
  checkResultUrl: ResultUrlCheck = defaultResultUrlCheck,
): boolean {
  if (isTerminal(record.status)) return false;
  record.lastPolledAt = now;
  if (isTerminal(state.status)) {
    record.progress = 100;
    record.updatedAt = now;
    if (state.status === 'succeeded') {
      const selected = selectResults(state.images.map((i) => ({ url: imageUrl(i) })), Math.max(1, record.billing.requestedImages), checkResultUrl);
      if (selected.warnings.length > 0) record.warnings = [...record.warnings, ...selected.warnings];
      record.resultUrls = selected.urls;
      if (selected.urls.length > 0) {
        record.status = 'succeeded';
        record.error = null;
        return true;
      }
      record.status = 'failed';
      record.error =
        selected.refused.length > 0
          ? { code: 'result_url_refused', message: `The upstream finished, but none of its result URLs may be passed on: ${selected.refused.slice(0, MAX_QUOTED_REFUSALS).join('; ')}.` }
          : { code: 'generation_failed', message: 'The upstream reported success without any image.' };
      return true;
    }
    record.status = state.status;
    record.resultUrls = [];
    record.error = state.error ? cleanUpstreamError(state.error, secrets) : { code: 'generation_failed', message: 'The upstream reported a failure without a reason.' };
    return true;
  }
  if (state.status === 'processing' && record.status === 'queued') record.status = 'processing';
  const reported = Math.min(99, Math.max(0, Math.floor(state.progress ?? 0)));
  if (reported > record.progress) record.progress = reported;
  record.updatedAt = now;
  return false;
}
