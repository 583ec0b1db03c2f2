/**
 * Helpers for adapters that validate upstream bodies with zod.
 */
import type { z } from 'zod';

/** One short line that says where an upstream body did not match what we read. */
export function describeZodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'unexpected shape';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return `${where}: ${issue.message}`;
}
