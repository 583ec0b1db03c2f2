/**
 * Helpers for adapters that validate upstream bodies with zod: read a body with its schema or throw the
 * `malformed` UpstreamError (platform code `upstream_error`), and read an optional shape (an error body).
 */
import type { z } from 'zod';
import { UpstreamError } from '../platform/errors';
import type { UpstreamResponse } from './contract';

/** One short line that says where an upstream body did not match what we read. */
export function describeZodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unexpected shape';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `${where}: ${issue.message}`;
}

/**
 * The response's body read with `schema`, or an UpstreamError('malformed') saying
 * "<what> is not readable: <where>: <problem>." with the response's status. `what` names the body for a
 * person, e.g. "fal's status response".
 */
export function parseUpstreamBody<S extends z.ZodType>(schema: S, response: UpstreamResponse, what: string): z.output<S> {
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new UpstreamError('malformed', `${what} is not readable: ${describeZodProblem(parsed.error)}.`, response.status);
  return parsed.data;
}

/** `body` read with `schema`, or undefined when it does not match (for `describeError` and other optional reads). */
export function parseOptional<S extends z.ZodType>(schema: S, body: unknown): z.output<S> | undefined {
  const parsed = schema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}
