/**
 * The stored task record and its mapping to the platform task object.
 */
import type { UpstreamTaskRef } from '../adapter-kit/contract';
import type { BillingInfo, ImageIntent, Warning } from '../intent/intent';
import type { Family, TaskType } from '../platform/catalog';
import { isTerminal, type PlatformTask, type TaskStatus } from '../platform/task';
import { redactSecrets } from '../upstream/redact';

/** Everything the bridge keeps about one task. Plain JSON: stores serialize it as is. */
export interface TaskRecord {
  /** Our task id: `task_` + 128+ random bits, base64url. */
  readonly id: string;
  /** Owner (from the API key); only the owner can see the task. */
  readonly owner: string;
  /** Channel that accepted the job; polls always go there. */
  readonly channelId: string;
  /** Adapter of that channel. */
  readonly adapterId: string;
  /** Handle on the upstream job. */
  readonly upstreamRef: UpstreamTaskRef;
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
  /** Warnings from normalization and the adapter. */
  readonly warnings: readonly Warning[];
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
}

/** What a new task record is made of: the accepted submit. */
export interface NewTaskRecord {
  readonly id: string;
  readonly owner: string;
  readonly channelId: string;
  readonly adapterId: string;
  readonly upstreamRef: UpstreamTaskRef;
  readonly intent: Pick<ImageIntent, 'platformModel' | 'family' | 'taskType' | 'billing' | 'warnings'>;
  /** Warnings and metadata of the adapter's build. */
  readonly built: { readonly warnings: readonly Warning[]; readonly metadata: Readonly<Record<string, unknown>> };
  readonly now: number;
  readonly callbackUrl?: string;
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
  };
}

/** The platform task object of a record (design section 5). */
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

/** Longest upstream failure text kept on a task. */
const MAX_ERROR_MESSAGE = 1000;

/**
 * Upstream failure text reaches the platform task through a poll body, not through the upstream client's
 * error path, so it is redacted here: the channel key (when given) literally, and credential shapes by pattern.
 */
function cleanUpstreamError(error: { code: string; message: string }, secrets: readonly string[]): { code: string; message: string } {
  return { code: redactSecrets(error.code, secrets).slice(0, 100), message: redactSecrets(error.message.slice(0, MAX_ERROR_MESSAGE * 2), secrets).slice(0, MAX_ERROR_MESSAGE) };
}

/**
 * Applies an upstream state to a record: status moves forward only, progress never decreases and is
 * 100 only when terminal. Upstream error text is redacted (`secrets`: e.g. the channel's key). Returns
 * true when the record became terminal by this call.
 */
export function applyUpstreamState(
  record: TaskRecord,
  state: { status: TaskStatus; progress?: number; images: ReadonlyArray<{ url: string }>; error?: { code: string; message: string } },
  now: number,
  secrets: readonly string[] = [],
): boolean {
  if (isTerminal(record.status)) return false;
  record.lastPolledAt = now;
  if (isTerminal(state.status)) {
    record.status = state.status;
    record.progress = 100;
    record.resultUrls = state.status === 'succeeded' ? state.images.map((i) => i.url) : [];
    record.error = state.status === 'failed' ? (state.error ? cleanUpstreamError(state.error, secrets) : { code: 'generation_failed', message: 'The upstream reported a failure without a reason.' }) : null;
    record.updatedAt = now;
    return true;
  }
  if (state.status === 'processing' && record.status === 'queued') record.status = 'processing';
  const reported = Math.min(99, Math.max(0, Math.floor(state.progress ?? 0)));
  if (reported > record.progress) record.progress = reported;
  record.updatedAt = now;
  return false;
}
