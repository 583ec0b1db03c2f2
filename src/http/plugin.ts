/**
 * The platform API as an encapsulated fastify plugin: routes, multipart, auth, request ids, security
 * headers, metrics, one log line per request, and the one error handler that writes every error envelope.
 * It is a citizen of the host it is mounted in (docs/embedding.md): URLs carry the mount path, a body the host
 * already parsed is reused, the host's @fastify/multipart is reused, errors the host's own hooks throw go to
 * the host's error handler, and the probes and metrics can be moved or turned off.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions, FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { DependencyContainer } from 'tsyringe';
import type { AppConfig } from '../config/config';
import type { BlobStore } from '../blobs/blob-store';
import type { BlobUrls } from '../blobs/blob-urls';
import { closeAppContainer } from '../di/container';
import { AUTHENTICATOR, BLOB_STORE, BLOB_URLS, CLOCK, CONFIG, LOGGER, TASK_API, TASK_STORE } from '../di/tokens';
import { findModel } from '../platform/catalog';
import { BridgeError, taskNotFoundError } from '../platform/errors';
import type { HealthResponse, ReadyResponse } from '../platform/probe-responses';
import { multipartFieldsToBody, type RawSubmit, type Upload } from '../platform/submit-request';
import { TASK_ID_PATTERN, type PlatformTask } from '../platform/task';
import { IDEMPOTENCY_KEY_PATTERN } from '../security/idempotency';
import type { Clock, Logger } from '../core/ports';
import type { Authenticator, Principal, RequestContext, TaskApi, TaskStore } from '../tasks/ports';
import { levelEnabled, withBindings } from '../util/bound-logger';
import { takeCallbackUrl, type CallbackUrlPolicy } from '../webhooks/callback-url';
import { registerBlobRoute } from './blob-route';
import { bridgeRoutes, ownedRoute, type BridgeRouteOptions } from './bridge-routes';
import { hostParsedBody, mountPathOf } from './host-request';
import { multipartReadError, toBridgeError } from './http-errors';
import { depthLimitedJsonParser } from './json-body';
import { PromMetrics } from './metrics';
import { buildOpenApiDocument } from './openapi';
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

/** The request decorator holding a request's BridgeRequestState (null until the bridge's onRequest hook). */
const REQUEST_STATE: unique symbol = Symbol('image-task-bridge.requestState');
interface StatefulRequest {
  [REQUEST_STATE]: BridgeRequestState | null;
}

/** Options of the bridge plugin: fastify's register options (`prefix`) and where the operational routes go. */
export interface BridgePluginOptions extends FastifyPluginOptions, BridgeRouteOptions {
  /** Close the container's store and clients (closeAppContainer) when the host closes (default false: they are yours). */
  readonly closeContainer?: boolean;
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

/** A 4xx the host's own code threw (a hook on the bridge's routes): the host's error handler answers it. */
function isHostClientError(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function modelLabel(body: unknown): string {
  const model = typeof body === 'object' && body !== null ? (body as { model?: unknown }).model : undefined;
  return typeof model === 'string' && findModel(model) ? model : 'unknown';
}

/** busboy limits of the submit route, passed to every parts() call (so they also apply with a host's @fastify/multipart). */
function multipartLimits(limits: AppConfig['limits']) {
  return {
    fileSize: limits.uploadBytes,
    files: limits.maxReferences,
    fieldSize: Math.min(limits.bodyBytes, Math.max(limits.maxPromptLength * 4, 64 * 1024) + limits.maxUrlLength * limits.maxReferences),
    fields: 64,
    parts: 64 + limits.maxReferences,
    headerPairs: 200,
  };
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
  for await (const part of request.parts({ limits: multipartLimits(config.limits) })) {
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
export function createBridgePlugin(container: DependencyContainer, defaults: BridgePluginOptions = {}): FastifyPluginAsync<BridgePluginOptions> {
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
  const callbackUrls: CallbackUrlPolicy = { enabled: config.webhooks.secret !== undefined, allowHosts: config.webhooks.allowHosts, maxUrlLength: limits.maxUrlLength };

  async function bridgePlugin(app: FastifyInstance, registered: BridgePluginOptions): Promise<void> {
    // Options given at registration (fastify's convention) win over those given to createBridgePlugin.
    const options: BridgePluginOptions = { ...defaults, ...registered };
    const routes = bridgeRoutes(options);
    // Per-request state is a request decorator under a symbol (fastify's decorateRequest, in this encapsulated
    // context only), not a property declared with `declare module 'fastify'`, which would reach every host that
    // imports the package. It was a WeakMap keyed by the request: V8 drops WeakMap entries only in a full GC, so
    // every request's state and child logger went to the old space and waited for the next mark-compact (about
    // half of the bytes promoted per request; docs/benchmarks.md "Promoted bytes").
    app.decorateRequest(REQUEST_STATE, null);
    const states = {
      get: (request: FastifyRequest): BridgeRequestState | undefined => (request as unknown as StatefulRequest)[REQUEST_STATE] ?? undefined,
      set: (request: FastifyRequest, state: BridgeRequestState): void => {
        (request as unknown as StatefulRequest)[REQUEST_STATE] = state;
      },
    };
    const stateOf = (request: FastifyRequest): BridgeRequestState => states.get(request) as BridgeRequestState;
    app.removeContentTypeParser(['text/plain', 'application/json']);
    // fastify's JSON parser behind a nesting check on the raw text (src/http/json-body.ts).
    app.addContentTypeParser('application/json', { parseAs: 'string' }, depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error')));
    // A host that registered @fastify/multipart itself passes its parser and decorators down to this context;
    // registering it again would throw FST_ERR_CTP_ALREADY_PRESENT. The bridge's limits go with each parts() call.
    if (!(app.hasContentTypeParser('multipart/form-data') && app.hasRequestDecorator('parts'))) {
      await app.register(multipart, { limits: multipartLimits(limits) });
    }
    if (options.closeContainer === true) app.addHook('onClose', async () => closeAppContainer(container));

    app.addHook('onRequest', async (request, reply) => {
      const requestId = requestIdFrom(request.headers['x-request-id']);
      states.set(request, { requestId, log: withBindings(logger, { request_id: requestId }), model: '-', upstreamSeconds: 0 });
      reply.header('x-request-id', requestId);
      reply.headers(SECURITY_HEADERS);
    });

    app.addHook('onResponse', async (request, reply) => {
      const state = states.get(request);
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
      // A 4xx the host's own hook threw on a bridge route (a 403 from its access check, say) is the host's
      // answer, not a bridge failure: throwing it on hands it to the host's error handler, with its status.
      if (!known && isHostClientError(err)) throw err;
      const state = states.get(request);
      const log = state?.log ?? logger;
      if (!known) log.error({ err }, 'unhandled error');
      if (state) state.errorCode = error.code;
      if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
      for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
      return reply.code(error.httpStatus).type('application/json; charset=utf-8').send(error.toEnvelope());
    });

    app.setNotFoundHandler(async (request, reply) => {
      // Inside a prefixed registration, match the path relative to the prefix.
      const path = (request.url.split('?')[0] ?? '').slice(app.prefix.length) || '/';
      const known = ownedRoute(routes, path);
      const state = states.get(request);
      if (state) state.errorCode = known ? 'method_not_allowed' : 'route_not_found';
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
      const state = stateOf(request);
      state.principal = principal;
      state.log = withBindings(logger, { request_id: state.requestId, owner: principal.owner });
    };

    // A body a host parser in front of the bridge already read (Express's global express.json()) is handed
    // to the bridge's own parser again, or refused with 415: never waited for (src/http/host-request.ts).
    const reuseHostBody = async (request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload): Promise<RequestPayload> => hostParsedBody(request.raw) ?? payload;

    app.post('/v1/images/tasks', { bodyLimit: limits.bodyBytes, onRequest: authenticate, preParsing: reuseHostBody }, async (request: FastifyRequest, reply: FastifyReply) => {
      const state = stateOf(request);
      const received: RawSubmit = request.isMultipart() ? await readMultipart(request, reply, config) : { body: request.body };
      // callback_url (webhooks) is an extension the task API takes beside the platform request.
      const { raw, callbackUrl } = takeCallbackUrl(received, callbackUrls);
      state.model = modelLabel(raw.body);
      const idempotencyKey = idempotencyKeyOf(request);
      const ctx: RequestContext = { requestId: state.requestId, upstreamMs: 0, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) };
      const principal = state.principal as Principal;
      let task: PlatformTask;
      try {
        task = await tasks.submit(principal, raw, ctx, callbackUrl !== undefined ? { callbackUrl } : undefined);
      } finally {
        state.upstreamSeconds = (ctx.upstreamMs ?? 0) / 1000;
      }
      reply.header('location', `${mountPathOf(request.raw)}${app.prefix}/v1/images/tasks/${task.task_id}`);
      return reply.code(201).send(task);
    });

    app.get<{ Params: { task_id: string } }>('/v1/images/tasks/:task_id', { onRequest: authenticate }, async (request) => {
      const state = stateOf(request);
      const taskId = request.params.task_id;
      if (!TASK_ID_PATTERN.test(taskId)) throw taskNotFoundError();
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

    if (routes.healthz !== null) app.get(routes.healthz, async (): Promise<HealthResponse> => ({ status: 'ok' }));

    if (routes.readyz !== null) app.get(routes.readyz, async (request): Promise<ReadyResponse> => {
      try {
        await Promise.race([
          store.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('the task store did not answer within 2 s')), 2000).unref()),
        ]);
      } catch (err) {
        stateOf(request).log.warn({ err: { message: (err as Error).message } }, 'not ready');
        throw new BridgeError('not_ready', 'Not ready: the task store does not answer.');
      }
      return { status: 'ready' };
    });

    if (routes.metrics !== null) app.get(routes.metrics, async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });

    if (routes.openapi !== null) {
      // The server URL is where this instance is mounted: the host's mount path (Express) plus the fastify
      // prefix. Built once per mount path; a host has a handful, the bound only guards against a pathological one.
      const documents = new Map<string, string>();
      app.get(routes.openapi, async (request, reply) => {
        const basePath = `${mountPathOf(request.raw)}${app.prefix}`;
        let document = documents.get(basePath);
        if (document === undefined) {
          document = JSON.stringify(buildOpenApiDocument({ basePath, paths: routes }));
          if (documents.size < 16) documents.set(basePath, document);
        }
        return reply.type('application/json; charset=utf-8').send(document);
      });
    }
  }

  // fastify-plugin's metadata (name, supported fastify versions) without its skip-override: the bridge stays
  // encapsulated, so its parsers, error handler and hooks never apply to the host's own routes.
  return fastifyPlugin(bridgePlugin, { name: 'image-task-bridge', fastify: '5.x', encapsulate: true });
}
