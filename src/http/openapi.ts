/**
 * The OpenAPI 3.1 document of the platform API, generated from the zod schemas in `src/platform/` (request
 * bodies, task, envelopes, probes) with zod's own JSON Schema 2020-12 output, which is what OpenAPI 3.1
 * schemas are. Nothing here restates a field: a new request field or error code shows up by itself.
 * Served at GET /openapi.json (docs/operations.md "The server", docs/api.md).
 */
import { z } from 'zod';
import { BLOB_MEDIA_TYPES } from '../blobs/blob-keys';
import { BLOB_ROUTE_PATH } from '../blobs/blob-urls';
import { ERROR_CODES, ERROR_DESCRIPTIONS, ERROR_STATUS, type ErrorCode } from '../platform/errors';
import { healthResponseSchema, readyResponseSchema } from '../platform/probe-responses';
import { submitRequestSchema } from '../platform/submit-request';
import { errorEnvelopeSchema, platformTaskSchema, queryEnvelopeSchema, warningSchema } from '../platform/task';
import { IDEMPOTENCY_KEY_PATTERN } from '../security/idempotency';
import { callbackUrlFieldSchema, CALLBACK_URL_FIELD } from '../webhooks/callback-url';
import { REQUEST_ID_PATTERN } from './request-id';

/** Where the document is served, relative to the bridge's mount path. */
export const OPENAPI_PATH = '/openapi.json';

/** What the document describes. */
export interface OpenApiOptions {
  /** The path prefix the bridge is mounted under ('' at the root); the document's server URL. */
  readonly basePath?: string;
  /** Whether GET /healthz and GET /readyz are served (default true). */
  readonly probes?: boolean;
  /** Whether GET /metrics is served (default true). */
  readonly metrics?: boolean;
  /** Where the probes and metrics are served when an embedder moved them (null: not served); overrides probes/metrics. */
  readonly paths?: { readonly healthz: string | null; readonly readyz: string | null; readonly metrics: string | null };
}

/** A JSON value of the document (schemas, operations, ...). */
type Json = Record<string, unknown>;

/** Errors a submit can answer; each appears under its own HTTP status. */
export const SUBMIT_ERRORS: readonly ErrorCode[] = [
  'invalid_request',
  'missing_parameter',
  'invalid_parameter',
  'unsupported_parameter',
  'unknown_parameter',
  'conflicting_parameters',
  'model_not_found',
  'model_unavailable',
  'upstream_rejected',
  'unauthorized',
  'idempotency_conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal_error',
  'upstream_error',
  'upstream_unavailable',
  'not_ready',
  'upstream_timeout',
];

/**
 * Errors a query can answer. A failed upstream poll never fails the query (the stored task is answered);
 * upstream_unavailable is the task store (Redis) not answering; not_ready a standalone server at MAX_CONNECTIONS.
 */
export const QUERY_ERRORS: readonly ErrorCode[] = ['invalid_request', 'unauthorized', 'task_not_found', 'internal_error', 'upstream_unavailable', 'not_ready'];

/** Errors the stored-image route can answer. */
export const BLOB_ERRORS: readonly ErrorCode[] = ['blob_url_invalid', 'blob_url_expired', 'blob_not_found', 'internal_error'];

/** The submit body the HTTP API takes: the platform request and the HTTP layer's callback_url (webhooks). */
const submitBodySchema = submitRequestSchema.extend({ [CALLBACK_URL_FIELD]: callbackUrlFieldSchema });

/**
 * The multipart form of a submit: the JSON body's fields as text parts (integers as decimal text, `images`
 * repeated), and reference images as file parts named `image` (repeatable). Derived from the JSON schema's
 * shape, so a new field appears in both.
 */
const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
const submitMultipartSchema = z
  .strictObject({
    ...submitBodySchema.shape,
    image: z
      .union([submitRequestSchema.shape.image.unwrap(), z.file().mime(UPLOAD_TYPES), z.array(z.file().mime(UPLOAD_TYPES))])
      .optional()
      .describe('Reference images as file parts named image (repeat the part for several), or one http(s) URL or data:image/... URI as a text part.'),
  })
  .describe('multipart/form-data: the fields of the JSON body as text parts, reference images as file parts named image.');

/** zod's registry output for `schemas`, as OpenAPI components (no per-schema $schema or $id). */
function toComponents(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    // Descriptions are kept in zod's global registry (`.describe()`); the registry above only names the schemas.
    metadata: z.globalRegistry,
    uri: (id) => `#/components/schemas/${id}`,
  });
  const components: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(out)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Json;
    components[id] = rest;
  }
  return components;
}

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });
const headerRef = (id: string): Json => ({ $ref: `#/components/headers/${id}` });

/** One response per HTTP status of `codes`, each limited to the codes of that status. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, Json> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Json = { 'X-Request-Id': headerRef('XRequestId') };
    if (group.includes('unauthorized')) headers['WWW-Authenticate'] = headerRef('WWWAuthenticate');
    if (group.some((code) => code === 'rate_limited' || code === 'upstream_unavailable' || code === 'not_ready')) headers['Retry-After'] = headerRef('RetryAfter');
    responses[String(status)] = {
      description: group.map((code) => `\`${code}\`: ${ERROR_DESCRIPTIONS[code]}`).join('\n\n'),
      headers,
      content: {
        'application/json': { schema: { allOf: [ref('ErrorEnvelope'), { type: 'object', properties: { code: { enum: group } } }] } },
      },
    };
  }
  return responses;
}

function jsonResponse(description: string, schema: Json, headers: Json = {}): Json {
  return { description, headers: { 'X-Request-Id': headerRef('XRequestId'), ...headers }, content: { 'application/json': { schema } } };
}

function paths(options: OpenApiOptions): Json {
  const out: Json = {
    '/v1/images/tasks': {
      post: {
        operationId: 'submitTask',
        summary: 'Submit an image task',
        description:
          'Validates and translates the request, submits it upstream and answers the new task (status queued). Every parameter is honoured, converted with a warning in metadata.warnings, or refused with an error naming it; a refused request never reaches an upstream.',
        tags: ['tasks'],
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'Extension: a retry with the same key and the same request answers the task the first call created (no second upstream job); the same key with a different request is 409 idempotency_conflict. Scoped to the API key.',
            schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
          },
          { $ref: '#/components/parameters/XRequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: ref('SubmitRequest') },
            'multipart/form-data': {
              schema: ref('SubmitMultipartRequest'),
              encoding: { image: { contentType: [...UPLOAD_TYPES, 'text/plain'].join(', ') } },
            },
          },
        },
        responses: {
          '201': jsonResponse('The task was created (status queued).', ref('Task'), { Location: headerRef('Location') }),
          ...errorResponses(SUBMIT_ERRORS),
        },
      },
    },
    '/v1/images/tasks/{task_id}': {
      get: {
        operationId: 'getTask',
        summary: 'Query a task',
        description:
          'Answers the task, polling the upstream when a poll is due. A failed task is a 200 with status failed and the task error; only request problems are HTTP errors.',
        tags: ['tasks'],
        parameters: [
          { name: 'task_id', in: 'path', required: true, description: 'The task_id the submit answered.', schema: { type: 'string' } },
          { $ref: '#/components/parameters/XRequestId' },
        ],
        responses: { '200': jsonResponse('The task.', ref('QueryEnvelope')), ...errorResponses(QUERY_ERRORS) },
      },
    },
    [`${BLOB_ROUTE_PATH}/{key}`]: {
      get: {
        operationId: 'getStoredImage',
        summary: 'An image the bridge stored',
        description:
          'Where result_url points when the upstream answered image bytes instead of URLs. No API key: the URL is the capability (192 random bits in the key; with URL signing on, also exp and sig). Use the URL exactly as the task gave it.',
        tags: ['tasks'],
        security: [],
        parameters: [
          { name: 'key', in: 'path', required: true, description: 'The stored image key (random, with the image extension).', schema: { type: 'string' } },
          { name: 'exp', in: 'query', required: false, description: 'Expiry (unix seconds) of a signed URL.', schema: { type: 'string', pattern: '^\\d{1,12}$' } },
          { name: 'sig', in: 'query', required: false, description: 'Signature of a signed URL.', schema: { type: 'string' } },
        ],
        responses: {
          '200': {
            description: 'The image bytes.',
            headers: { 'X-Request-Id': headerRef('XRequestId') },
            content: Object.fromEntries(Object.keys(BLOB_MEDIA_TYPES).map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])),
          },
          ...errorResponses(BLOB_ERRORS),
        },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        tags: ['meta'],
        security: [],
        responses: { '200': jsonResponse('The OpenAPI 3.1 document of this API.', { type: 'object' }) },
      },
    },
  };
  const healthz = options.paths ? options.paths.healthz : options.probes !== false ? '/healthz' : null;
  const readyz = options.paths ? options.paths.readyz : options.probes !== false ? '/readyz' : null;
  const metrics = options.paths ? options.paths.metrics : options.metrics !== false ? '/metrics' : null;
  if (healthz !== null) {
    out[healthz] = {
      get: { operationId: 'health', summary: 'Liveness probe', tags: ['operations'], security: [], responses: { '200': jsonResponse('The process serves.', ref('HealthResponse')) } },
    };
  }
  if (readyz !== null) {
    out[readyz] = {
      get: {
        operationId: 'ready',
        summary: 'Readiness probe',
        tags: ['operations'],
        security: [],
        responses: { '200': jsonResponse('Ready.', ref('ReadyResponse')), ...errorResponses(['not_ready']) },
      },
    };
  }
  if (metrics !== null) {
    out[metrics] = {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: [],
        responses: { '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of the platform API as mounted with `options`. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): Json {
  const schemas = {
    ...toComponents({ SubmitRequest: submitBodySchema, SubmitMultipartRequest: submitMultipartSchema }, 'input'),
    ...toComponents(
      {
        Task: platformTaskSchema,
        Warning: warningSchema,
        QueryEnvelope: queryEnvelopeSchema,
        ErrorEnvelope: errorEnvelopeSchema,
        HealthResponse: healthResponseSchema,
        ReadyResponse: readyResponseSchema,
      },
      'output',
    ),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'image-task-bridge platform API',
      version: '1.0.0',
      description: [
        'The platform image-task API: submit a task, then query it until it succeeds or fails.',
        'Extensions to the platform API: the Idempotency-Key header, the seed field, the callback_url field (the finished task is POSTed there, signed per Standard Webhooks), metadata.warnings (parameters converted instead of refused).',
        `Every error is the envelope {code, message, param?, data: null}; its HTTP status follows from the code (${ERROR_CODES.length} codes, listed with ErrorEnvelope.code and in docs/api.md).`,
      ].join('\n\n'),
    },
    servers: [{ url: options.basePath || '/' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'tasks', description: 'The platform API.' },
      { name: 'operations', description: 'Probes and metrics (no authentication).' },
      { name: 'meta', description: 'This document.' },
    ],
    paths: paths(options),
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: "Authorization: Bearer <key>".' },
      },
      parameters: {
        XRequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'Kept as the request id when it matches the pattern; otherwise a new one is made. Echoed in the response and on every log line.',
          schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
        },
      },
      headers: {
        XRequestId: { description: 'The request id (quote it when reporting a problem).', schema: { type: 'string' } },
        Location: { description: 'Path of the new task (GET it to follow the task).', schema: { type: 'string' } },
        WWWAuthenticate: { description: 'Bearer.', schema: { type: 'string', const: 'Bearer' } },
        RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'string', pattern: '^\\d+$' } },
      },
    },
  };
}
