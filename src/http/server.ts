/**
 * The standalone fastify server and the plain `(req, res)` handler for node:http / Express hosts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { DependencyContainer } from 'tsyringe';
import type { AppConfig } from '../config/config';
import { CONFIG } from '../di/tokens';
import { BridgeError, ConfigError } from '../platform/errors';
import { capConnections } from './connection-cap';
import { clientErrorResponse, rawErrorResponse } from './http-errors';
import { bridgeRoutes, ownedRoute, type BridgeRouteOptions } from './bridge-routes';
import { setMountPath } from './host-request';
import { createBridgePlugin, SECURITY_HEADERS } from './plugin';

/** A fastify server serving the platform API from `container` (not listening yet). */
export function buildServer(container: DependencyContainer, routes: BridgeRouteOptions = {}): FastifyInstance {
  const config = container.resolve<AppConfig>(CONFIG);
  const app = Fastify({
    // The plugin logs one line per request through the Logger port; fastify's own request logs would double them.
    logger: false,
    bodyLimit: config.limits.bodyBytes,
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    requestTimeout: 120_000,
    // A path that is not valid percent-encoding never reaches a route (nor the plugin's error handler).
    frameworkErrors: (_err, _request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply;
      const err = new BridgeError('invalid_request', 'The request path is not valid percent-encoding.');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      void reply.code(err.httpStatus).type('application/json; charset=utf-8').send(err.toEnvelope());
    },
    // Requests node's parser refuses never reach the plugin; they still get the error envelope.
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err));
      socket.destroy(err);
    },
  });
  // node answers these itself, without the envelope: an Expect other than 100-continue (417, empty body) and
  // CONNECT (the socket is closed unanswered when nobody listens for it).
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const err = new BridgeError('invalid_request', 'The Expect header is not supported (only "100-continue" is).', 'Expect');
    const body = JSON.stringify(err.toEnvelope());
    res.writeHead(err.httpStatus, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
  app.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.end(rawErrorResponse(new BridgeError('method_not_allowed', 'CONNECT is not supported; this is not a proxy.')));
  });
  capConnections(app.server, config.limits.maxConnections);
  void app.register(createBridgePlugin(container), routes);
  return app;
}

/** Options of createRequestHandler. */
export interface RequestHandlerOptions extends BridgeRouteOptions {
  /**
   * The path a node:http host mounted the handler at, when the host strips it from `req.url` itself; it
   * prefixes the `Location` the bridge answers with. Express's `req.baseUrl` is used when present.
   */
  readonly mountPath?: string;
}

/** A node:http request listener with lifecycle controls. */
export interface BridgeRequestHandler {
  /**
   * Serves one request (node:http, Express `app.use`, Connect). With `next` (Express, Connect), a path the
   * bridge does not serve is passed on to the host's next route instead of answered with 404.
   */
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Resolves once the handler is ready (it also queues requests until then). */
  ready(): Promise<void>;
  /** Stops the embedded fastify instance (does not close the container's store or clients). */
  close(): Promise<void>;
}

/**
 * The platform API as a plain `(req, res)` listener. Mount it at a path in Express (`app.use('/images',
 * handler)`: Express strips the mount path) or use it as a node:http server's listener.
 */
export function createRequestHandler(container: DependencyContainer, options: RequestHandlerOptions = {}): BridgeRequestHandler {
  const { mountPath = '', ...routeOptions } = options;
  if (mountPath !== '' && !/^(\/[^/?#\s]+)+$/.test(mountPath)) {
    throw new ConfigError(`mountPath must be '' or a path like "/images" without a trailing slash; got ${JSON.stringify(mountPath)}.`);
  }
  const routes = bridgeRoutes(routeOptions);
  const app = buildServer(container, routeOptions);
  const ready: Promise<void> = Promise.resolve(app.ready()).then(() => undefined);
  ready.catch(() => undefined);
  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => {
    if (typeof next === 'function' && !ownedRoute(routes, (req.url ?? '/').split('?')[0] ?? '/')) {
      next();
      return;
    }
    const baseUrl = (req as IncomingMessage & { baseUrl?: unknown }).baseUrl;
    setMountPath(req, typeof baseUrl === 'string' ? baseUrl : mountPath);
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
