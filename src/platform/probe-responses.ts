/**
 * The bodies of the liveness and readiness probes, as zod schemas (the OpenAPI document is generated from
 * them; the HTTP layer types its answers with them).
 */
import { z } from 'zod';

/** GET /healthz: the process serves. */
export const healthResponseSchema = z.strictObject({ status: z.literal('ok') }).describe('The process serves requests.');

/** GET /readyz: the task store answers. */
export const readyResponseSchema = z.strictObject({ status: z.literal('ready') }).describe('The task store answered a ping within 2 s.');

/** Body of GET /healthz. */
export type HealthResponse = z.infer<typeof healthResponseSchema>;
/** Body of GET /readyz. */
export type ReadyResponse = z.infer<typeof readyResponseSchema>;
