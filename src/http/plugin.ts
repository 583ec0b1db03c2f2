/**
 * The platform API as an encapsulated fastify plugin: routes, multipart, auth, request ids, security
 * headers, metrics, one log line per request, and the one error handler that writes every error envelope.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DependencyContainer } from 'tsyringe';
import type { AppConfig } from '../config/config';
import type { BlobStore } from '../blobs/blob-store';
import type { BlobUrls } from '../blobs/blob-urls';
import { AUTHENTICATOR, BLOB_STORE, BLOB_URLS, CLOCK, CONFIG, LOGGER, TASK_API, TASK_STORE } from '../di/tokens';
import { findModel } from '../platform/catalog';
import { BridgeError } from '../platform/errors';
import type { HealthResponse, ReadyResponse } from '../platform/probe-responses';
import { multipartFieldsToBody, type RawSubmit, type Upload } from '../platform/submit-request';
import type { PlatformTask } from '../platform/task';
import { IDEMPOTENCY_KEY_PATTERN } from '../security/idempotency';
import type { Authenticator, Clock, Logger, Principal, RequestContext, TaskApi, TaskStore } from '../tasks/ports';
import { levelEnabled, withBindings } from '../util/bound-logger';
import { registerBlobRoute } from './blob-route';
import { multipartReadError, toBridgeError } from './http-errors';
import { depthLimitedJsonParser } from './json-body';
import { PromMetrics } from './metrics';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi';
import { requestIdFrom } from './request-id';

/** Per-request state of the bridge. */
interface BridgeRequestState {
  requestId: string;
  log: Logger;
  principal?: Principal;
  model: string;
  upstreamSeconds: number;
  errorCode?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Bridge state (request id, principal, ...); set by the bridge plugin's onRequest hook. */
    bridge: BridgeRequestState;
  }
}

/** Headers on every response of the bridge: it serves JSON to programs, never documents to browsers. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const TASK_ID = /^task_[A-Za-z0-9_-]{22,64}$/;

/** Routes of the plugin (path -> methods), for 405 answers. */
const ROUTES: ReadonlyArray<{ pattern: RegExp; methods: string[] }> = [
  { pattern: /^\/v1\/images\/tasks\/?$/, methods: ['POST'] },
  { pattern: /^\/v1\/images\/tasks\/[^/]+\/?$/, methods: ['GET', 'HEAD'] },
  { pattern: /^\/v1\/images\/blobs\/[^/]+\/?$/, methods: ['GET', 'HEAD'] },
  { pattern: /^\/(healthz|readyz|metrics)\/?$/, methods: ['GET', 'HEAD'] },
];
const OPENAPI_ROUTE = { pattern: /^\/openapi\.json\/?$/, methods: ['GET', 'HEAD'] };

/** Options of the bridge plugin (and of the server and request handler built on it). */
export interface BridgePluginOptions {
  /** Serve the OpenAPI 3.1 document at GET /openapi.json (default true; false leaves the path to the host). */
  readonly openapi?: boolean;
}

function modelLabel(body: unknown): string {
  const model = typeof body === 'object' && body !== null ? (body as { model?: unknown }).model : undefined;
  return typeof model === 'string' && findModel(model) ? model : 'unknown';
}

async function readMultipart(request: FastifyRequest, reply: FastifyReply, config: AppConfig): Promise<RawSubmit> {
  try {
    return await readMultipartParts(request, config);
  } catch (err) {
    // The rest of the body may be unread (the parser stopped at the bad part) and node does not drain a body
    // someone started reading: on a keep-alive socket the next request would never be parsed. Close it.
    reply.header('connection', 'close');
    throw multipartReadError(err);
  }
}

/** The 413 for a multipart body whose parts together pass BODY_LIMIT_BYTES. */
function multipartTooLarge(limit: number): BridgeError {
  return new BridgeError('payload_too_large', `The multipart body is larger than ${limit} bytes (BODY_LIMIT_BYTES, all parts together); send fewer or smaller images.`);
}

/**
 * Reads the parts, counting the bytes of every field and file against BODY_LIMIT_BYTES as they arrive: the
 * per-file and file-count limits alone let 16 files of 10 MiB through, each then 1.4x as base64 in the upstream
 * body (docs/reliability.md, "hostile clients"). A declared Content-Length over the limit is refused unread.
 */
async function readMultipartParts(request: FastifyRequest, config: AppConfig): Promise<RawSubmit> {
  const limit = config.limits.bodyBytes;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw multipartTooLarge(limit);
  const fields: Array<{ name: string; value: string }> = [];
  const uploads: Upload[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image') {
        part.file.resume();
        throw new BridgeError('unknown_parameter', `The file field "${part.fieldname}" is not accepted; upload reference images in the field "image" (it may repeat).`, part.fieldname);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > limit) throw multipartTooLarge(limit);
        chunks.push(chunk);
      }
      // The same error @fastify/multipart's toBuffer() raises (mapped in http-errors.ts).
      if (part.file.truncated) throw Object.assign(new Error('request file too large'), { code: 'FST_REQ_FILE_TOO_LARGE', statusCode: 413 });
      uploads.push({ field: 'image', filename: part.filename, mimeType: part.mimetype, bytes: Buffer.concat(chunks) });
      continue;
    }
    if (part.fieldnameTruncated) throw new BridgeError('invalid_request', 'A multipart field name is too long.');
    if (part.valueTruncated) {
      throw new BridgeError('payload_too_large', `The multipart field "${part.fieldname}" is longer than ${config.limits.bodyBytes} bytes.`, part.fieldname);
    }
    if (typeof part.value !== 'string') {
      throw new BridgeError('invalid_parameter', `The multipart field "${part.fieldname}" must be plain text, not JSON.`, part.fieldname);
    }
    total += Buffer.byteLength(part.value);
    if (total > limit) throw multipartTooLarge(limit);
    fields.push({ name: part.fieldname, value: part.value });
  }
  return { body: multipartFieldsToBody(fields), uploads };
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new BridgeError('invalid_parameter', 'The Idempotency-Key header must be 1-255 printable ASCII characters without spaces.', 'Idempotency-Key');
  }
  return value;
}

/**
 * The bridge as a fastify plugin. Register it in any fastify app (with a `prefix` if you like); it is
 * encapsulated, so its error handler, parsers and hooks do not touch the host's other routes.
 */
export function createBridgePlugin(container: DependencyContainer, options: BridgePluginOptions = {}): FastifyPluginAsync {
  const config = container.resolve<AppConfig>(CONFIG);
  const tasks = container.resolve<TaskApi>(TASK_API);
  const authenticator = container.resolve<Authenticator>(AUTHENTICATOR);
  const store = container.resolve<TaskStore>(TASK_STORE);
  const logger = container.resolve<Logger>(LOGGER);
  const metrics = container.resolve(PromMetrics);
  const blobStore = container.resolve<BlobStore>(BLOB_STORE);
  const blobUrls = container.resolve<BlobUrls>(BLOB_URLS);
  const clock = container.resolve<Clock>(CLOCK);
  const { limits } = config;
  const serveOpenApi = options.openapi !== false;
  const routes = serveOpenApi ? [...ROUTES, OPENAPI_ROUTE] : ROUTES;

  return async function bridgePlugin(app: FastifyInstance): Promise<void> {
    app.removeContentTypeParser(['text/plain', 'application/json']);
    // fastify's JSON parser behind a nesting check on the raw text (src/http/json-body.ts).
    app.addContentTypeParser('application/json', { parseAs: 'string' }, depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error')));
    await app.register(multipart, {
      limits: {
        fileSize: limits.uploadBytes,
        files: limits.maxReferences,
        fieldSize: Math.min(limits.bodyBytes, Math.max(limits.maxPromptLength * 4, 64 * 1024) + limits.maxUrlLength * limits.maxReferences),
        fields: 64,
        parts: 64 + limits.maxReferences,
        headerPairs: 200,
      },
    });
    app.decorateRequest('bridge', undefined as unknown as BridgeRequestState);

    app.addHook('onRequest', async (request, reply) => {
      const requestId = requestIdFrom(request.headers['x-request-id']);
      request.bridge = { requestId, log: withBindings(logger, { request_id: requestId }), model: '-', upstreamSeconds: 0 };
      reply.header('x-request-id', requestId);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    });

    app.addHook('onResponse', async (request, reply) => {
      const state = request.bridge;
      if (!state) return;
      const route = request.routeOptions.url ?? 'unmatched';
      const seconds = reply.elapsedTime / 1000;
      metrics.httpRequest(route, request.method, state.model, reply.statusCode);
      // Overhead is measured for requests that got past auth: what a paying client experiences.
      if (state.principal) metrics.bridgeOverhead(route, seconds - state.upstreamSeconds);
      // Probes and scrapes arrive every few seconds; at info they would drown the API traffic.
      const level = reply.statusCode >= 500 ? 'error' : !route.includes('/v1/') && reply.statusCode < 400 ? 'debug' : 'info';
      if (!levelEnabled(state.log, level)) return;
      const line = {
        method: request.method,
        route,
        status: reply.statusCode,
        duration_ms: Math.round(seconds * 1000 * 10) / 10,
        upstream_ms: Math.round(state.upstreamSeconds * 1000 * 10) / 10,
        ...(state.model !== '-' ? { model: state.model } : {}),
        ...(state.principal ? { key_label: state.principal.keyLabel } : {}),
        ...(state.errorCode ? { error_code: state.errorCode } : {}),
      };
      state.log[level](line, level === 'error' ? 'request failed' : 'request');
    });

    app.setErrorHandler(async (err, request, reply) => {
      const { error, known } = toBridgeError(err, limits);
      const log = request.bridge?.log ?? logger;
      if (!known) log.error({ err }, 'unhandled error');
      if (request.bridge) request.bridge.errorCode = error.code;
      if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
      for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
      return reply.code(error.httpStatus).type('application/json; charset=utf-8').send(error.toEnvelope());
    });

    app.setNotFoundHandler(async (request, reply) => {
      // Inside a prefixed registration, match the path relative to the prefix.
      const path = (request.url.split('?')[0] ?? '').slice(app.prefix.length) || '/';
      const known = routes.find((r) => r.pattern.test(path));
      if (request.bridge) request.bridge.errorCode = known ? 'method_not_allowed' : 'route_not_found';
      if (known) {
        reply.header('allow', known.methods.join(', '));
        const err = new BridgeError('method_not_allowed', `${request.method} is not allowed on ${path}; use ${known.methods.join(' or ')}.`);
        return reply.code(err.httpStatus).send(err.toEnvelope());
      }
      const err = new BridgeError('route_not_found', `No route ${request.method} ${path}. The platform API is POST /v1/images/tasks and GET /v1/images/tasks/{task_id}.`);
      return reply.code(err.httpStatus).send(err.toEnvelope());
    });

    const authenticate = async (request: FastifyRequest): Promise<void> => {
      const principal = await authenticator.authenticate(request.headers.authorization);
      if (!principal) throw new BridgeError('unauthorized', 'Missing or unknown API key; send the header "Authorization: Bearer <key>".');
      request.bridge.principal = principal;
      request.bridge.log = withBindings(logger, { request_id: request.bridge.requestId, owner: principal.owner });
    };

    app.post('/v1/images/tasks', { bodyLimit: limits.bodyBytes, onRequest: authenticate }, async (request: FastifyRequest, reply: FastifyReply) => {
      const state = request.bridge;
      const raw: RawSubmit = request.isMultipart() ? await readMultipart(request, reply, config) : { body: request.body };
      state.model = modelLabel(raw.body);
      const idempotencyKey = idempotencyKeyOf(request);
      const ctx: RequestContext = { requestId: state.requestId, upstreamMs: 0, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) };
      const principal = state.principal as Principal;
      let task: PlatformTask;
      try {
        task = await tasks.submit(principal, raw, ctx);
      } finally {
        state.upstreamSeconds = (ctx.upstreamMs ?? 0) / 1000;
      }
      reply.header('location', `${app.prefix}/v1/images/tasks/${task.task_id}`);
      return reply.code(201).send(task);
    });

    app.get<{ Params: { task_id: string } }>('/v1/images/tasks/:task_id', { onRequest: authenticate }, async (request) => {
      const state = request.bridge;
      const taskId = request.params.task_id;
      if (!TASK_ID.test(taskId)) throw new BridgeError('task_not_found', `No task ${taskId.slice(0, 80)} exists for this API key.`, 'task_id');
      const principal = state.principal as Principal;
      const ctx: RequestContext = { requestId: state.requestId, upstreamMs: 0 };
      let task: PlatformTask;
      try {
        task = await tasks.get(principal, taskId, ctx);
      } finally {
        state.upstreamSeconds = (ctx.upstreamMs ?? 0) / 1000;
      }
      return { code: 'success', message: '', data: task };
    });

    registerBlobRoute(app, { store: blobStore, urls: blobUrls, now: () => clock.now() });

    app.get('/healthz', async (): Promise<HealthResponse> => ({ status: 'ok' }));

    app.get('/readyz', async (request): Promise<ReadyResponse> => {
      try {
        await Promise.race([
          store.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('the task store did not answer within 2 s')), 2000).unref()),
        ]);
      } catch (err) {
        request.bridge.log.warn({ err: { message: (err as Error).message } }, 'not ready');
        throw new BridgeError('not_ready', 'Not ready: the task store does not answer.');
      }
      return { status: 'ready' };
    });

    app.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });

    if (serveOpenApi) {
      // Built once per registration: the server URL is the prefix this instance is mounted under.
      const document = JSON.stringify(buildOpenApiDocument({ basePath: app.prefix }));
      app.get(OPENAPI_PATH, async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
    }
  };
}
