/**
 * The ports of the task layer. Each has a DI token in src/di/tokens.ts; embedders register their own
 * implementation for the token before the app resolves.
 */
import type { TaskRecord } from './task-record';
import type { SizeTier } from '../platform/gpt-image-2-sizes';
import type { Quality } from '../platform/catalog';
import type { TaskStatus } from '../platform/task';

/** Persistence of task records. */
export interface TaskStore {
  /** Stores a new record; throws if the id exists. */
  create(record: TaskRecord): Promise<void>;
  /** The record with this id, or undefined. */
  get(id: string): Promise<TaskRecord | undefined>;
  /**
   * Replaces a record (last writer wins; progress monotonicity is enforced by the task service), except that a
   * terminal record is final: a record with another status never replaces it (a slow poller cannot undo a result).
   */
  update(record: TaskRecord): Promise<void>;
  /**
   * Takes the right to poll this task's upstream for `intervalMs`. True for exactly one caller per
   * interval across every instance sharing the store (poll coalescing).
   */
  tryAcquirePollLease(id: string, intervalMs: number): Promise<boolean>;
  /**
   * Claims the right to record this task's usage for `leaseMs`, across every instance sharing the store:
   * `claimed` for exactly one caller while the claim holds; `held` while another caller's claim holds;
   * `settled` once confirmSettlement was called (for good). A claim never confirmed lapses after `leaseMs`
   * and the task can be claimed again (at-least-once settlement: a crash between claim and confirm is retried).
   */
  claimSettlement(id: string, leaseMs: number): Promise<SettlementClaim>;
  /** Marks usage as recorded for good: every later claim answers `settled`. Idempotent. */
  confirmSettlement(id: string): Promise<void>;
  /**
   * Atomically reserves an idempotency key for one submit, across every instance sharing the store: when the key
   * is free it is stored as `pending` (expiring after `pendingTtlMs`, so a crashed submit frees it) and the answer is
   * `reserved`; otherwise the answer is the entry already there.
   */
  reserveIdempotencyKey(key: string, entry: IdempotencyEntry, pendingTtlMs: number): Promise<IdempotencyReservation>;
  /**
   * Marks the caller's pending reservation (same taskId) as completed, kept for `ttlMs`. False when the entry is
   * now someone else's (the pending marker expired and another submit took the key).
   */
  completeIdempotencyKey(key: string, entry: IdempotencyEntry, ttlMs: number): Promise<boolean>;
  /** Removes the caller's pending reservation (same taskId) after a failed submit; anything else is left alone. */
  releaseIdempotencyKey(key: string, taskId: string): Promise<void>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Answer of TaskStore.claimSettlement. */
export type SettlementClaim =
  /** The caller holds the claim: record the usage, then confirm. */
  | 'claimed'
  /** Another caller holds an unexpired claim: try again later. */
  | 'held'
  /** Usage was recorded and confirmed: nothing to do. */
  | 'settled';

/** What an idempotency key stands for. */
export interface IdempotencyEntry {
  /** sha256 of the request (canonical JSON body + uploads): the same key with another body is a conflict. */
  readonly fingerprint: string;
  /** The task id the reserving submit will create (known before the upstream call). */
  readonly taskId: string;
  /** pending: the submit is running; completed: the task exists. */
  readonly state: 'pending' | 'completed';
}

/** Answer of TaskStore.reserveIdempotencyKey. */
export type IdempotencyReservation =
  /** The caller holds the key and must complete or release it. */
  | { readonly outcome: 'reserved' }
  /** The key was already taken: here is its entry. */
  | { readonly outcome: 'exists'; readonly entry: IdempotencyEntry };

/** One usage record per terminal task, delivered at least once; `task_id` is its idempotency key. */
export interface UsageEvent {
  /** Platform task id. */
  task_id: string;
  /** Owner of the task. */
  owner: string;
  /** Platform model name. */
  model: string;
  /** Size tier, for a model priced by size (gpt-image-2). */
  tier?: SizeTier;
  /** Quality, for a model priced by quality (gpt-image-2). */
  quality?: Quality;
  /** Images requested (the task's `n`): the most images the task is billed for. */
  requested_n: number;
  /** Images returned (the task's results): what `cost` charges for, up to `requested_n`. */
  result_count: number;
  /** Terminal status. */
  status: Extract<TaskStatus, 'succeeded' | 'failed'>;
  /** Price of one image (by model, and tier and quality) x min(result_count, requested_n); 0 when failed (src/tasks/pricing.ts). */
  cost: number;
  /** Currency/unit of cost, from the price table. */
  currency: string;
  /** Channel that ran the job. */
  channel: string;
  /** Upstream calls made for a synchronous upstream's task (more than 1 when n was fanned out); absent: one job. */
  upstream_calls?: number;
}

/**
 * Receives usage records (billing). Delivery is **at least once**: the engine claims the task, calls
 * `record`, then confirms; a sink that throws, or a process that dies before the confirmation, gets the same
 * event again later (the engine retries with backoff until `record` resolves). A sink must therefore treat a
 * repeated `task_id` as the same charge (e.g. a unique key on task_id, or an upsert), never as a second one.
 */
export interface UsageSink {
  /**
   * Records one terminal task's usage; resolve only once it is durably recorded, throw to have it retried.
   * May be called again with the same `task_id` (same event): treat that as the same charge.
   * `context` names the request that settled it, when a client query did.
   */
  record(event: UsageEvent, context?: { requestId?: string }): Promise<void>;
}

/**
 * Delivers terminal tasks to their `callbackUrl` (webhooks). The engine calls it after settlement for a record
 * with a `callbackUrl` not yet `notified`, retrying with backoff until it resolves, then marks the record notified.
 */
export interface TaskNotifier {
  /** Durably queues delivery of this terminal task to record.callbackUrl; idempotent per task id. */
  notify(record: TaskRecord): Promise<void>;
}

/** The caller behind a request. */
export interface Principal {
  /** Owner id: tasks are visible only to their owner. */
  owner: string;
  /** A non-secret label for logs (never the key). */
  keyLabel: string;
}

/** Decides who is calling from the Authorization header. */
export interface Authenticator {
  /** The principal, or undefined for a missing/unknown key. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
}

/** Per-request context passed from the HTTP layer. */
export interface RequestContext {
  /** Request id, on every log line. */
  requestId: string;
  /** Idempotency-Key header, when sent. */
  idempotencyKey?: string;
  /**
   * Milliseconds this request spent waiting on upstream calls (its own, or a coalesced poll it joined);
   * the task service adds to it, the HTTP layer subtracts it from the total to get the bridge's overhead.
   */
  upstreamMs?: number;
}

/** What a submit carries besides the platform request body (extensions of the platform API). */
export interface SubmitOptions {
  /**
   * Where to deliver the terminal task (the request's `callback_url`, already checked by the caller's URL
   * policy). Stored on the record as `callbackUrl`; the engine hands the terminal task to the TaskNotifier.
   */
  readonly callbackUrl?: string;
}

/** The task operations the HTTP layer calls. */
export interface TaskApi {
  /** Validates, routes and submits; resolves with the new platform task (HTTP 201). Throws BridgeError. */
  submit(principal: Principal, raw: import('../platform/submit-request').RawSubmit, ctx: RequestContext, options?: SubmitOptions): Promise<import('../platform/task').PlatformTask>;
  /** The owner's task (polling the upstream on demand); task_not_found for unknown or foreign ids. */
  get(principal: Principal, taskId: string, ctx: RequestContext): Promise<import('../platform/task').PlatformTask>;
}
