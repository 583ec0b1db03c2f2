/**
 * The port of the security layer: per-owner submit limits. Its DI token is SUBMIT_LIMITER (src/di/tokens.ts).
 */

/** Why SubmitLimiter.admit refused a submit. */
export type AdmissionRefusal = 'rate' | 'open_tasks';

/** Answer of SubmitLimiter.admit. */
export type Admission =
  /** The submit may go ahead; it now holds an open-task slot. */
  | { readonly admitted: true }
  /** Refused: `reason`, the configured `limit`, and when trying again makes sense. */
  | { readonly admitted: false; readonly reason: AdmissionRefusal; readonly limit: number; readonly retryAfterMs: number };

/** Per-owner abuse limits on submits (rate and open tasks), shared by every instance of a deployment. */
export interface SubmitLimiter {
  /** Takes one token from the owner's bucket and an open-task slot for `taskId`: both, or neither. */
  admit(owner: string, taskId: string): Promise<Admission>;
  /** Frees the open-task slot of `taskId` (its submit failed, or the task reached a terminal status); idempotent. */
  release(owner: string, taskId: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
