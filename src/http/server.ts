/**
 * The standalone fastify server and the plain `(req, res)` handler for node:http / Express hosts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DependencyContainer } from 'tsyringe';
import type { AppConfig } from '../config/config';
import { CONFIG } from '../di/tokens';
import { BridgeError } from '../platform/errors';
import { createBridgePlugin } from './plugin';
import { requestIdFrom } from './request-id';

/** A fastify server serving the platform API from `container` (not listening yet). */
export function buildServer(container: DependencyContainer): FastifyInstance {
  const config = container.resolve<AppConfig>(CONFIG);
  const app = Fastify({
    // The plugin logs one line per request through the Logger port; fastify's own request logs would double them.
    logger: false,
    bodyLimit: config.limits.bodyBytes,
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    requestTimeout: 120_000,
  });
  void app.register(createBridgePlugin(container));
  return app;
}

/** A node:http request listener with lifecycle controls. */
export interface BridgeRequestHandler {
  /** Serves one request (mount it in node:http, Express `app.use`, Koa `callback`-style hosts). */
  (req: IncomingMessage, res: ServerResponse): void;
  /** Resolves once the handler is ready (it also queues requests until then). */
  ready(): Promise<void>;
  /** Stops the embedded fastify instance (does not close the container's store or clients). */
  close(): Promise<void>;
}

/**
 * The platform API as a plain `(req, res)` listener. Mount it at a path in Express (`app.use('/images',
 * handler)`: Express strips the mount path) or use it as a node:http server's listener.
 */
export function createRequestHandler(container: DependencyContainer): BridgeRequestHandler {
  const app = buildServer(container);
  const ready: Promise<void> = Promise.resolve(app.ready()).then(() => undefined);
  ready.catch(() => undefined);
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    ready.then(
      () => app.routing(req, res),
      () => {
        const err = new BridgeError('internal_error', 'The image bridge failed to start.');
        res.writeHead(err.httpStatus, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify(err.toEnvelope()));
      },
    );
  }) as BridgeRequestHandler;
  handler.ready = () => ready;
  handler.close = () => app.close();
  return handler;
}
