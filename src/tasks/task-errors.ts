/**
 * Errors become log fields without their stack (shared by the task units).
 */
import { isBridgeError, isUpstreamError } from '../platform/errors';

/** The log fields of an error (code, kind, upstream status, message). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (isUpstreamError(err)) return { code: err.code, kind: err.kind, upstream_status: err.upstreamStatus, message: err.message };
  if (isBridgeError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { message: String(err) };
}
