/**
 * Error helpers shared by the task units: upstream errors are recognised by shape (see
 * src/platform/errors.ts), and errors become log fields without their stack.
 */
import { BridgeError, isBridgeError, type UpstreamError } from '../platform/errors';

/** Upstream errors are recognised by shape, not class (see src/platform/errors.ts). */
export function isUpstreamError(err: unknown): err is UpstreamError {
  return isBridgeError(err) && typeof (err as { kind?: unknown }).kind === 'string' && typeof (err as { isRetryable?: unknown }).isRetryable === 'boolean';
}

/** The log fields of an error (code, kind, upstream status, message). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (isUpstreamError(err)) return { code: err.code, kind: err.kind, upstream_status: err.upstreamStatus, message: err.message };
  if (isBridgeError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}

/** The answer for an unknown, foreign or malformed task id (the same for all three). */
export function taskNotFound(): BridgeError {
  return new BridgeError('task_not_found', 'No task with this id exists for this API key. Check the task_id returned by the submit call.', 'task_id');
}
