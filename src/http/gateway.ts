/**
 * startGateway: the standalone server's life cycle. Starts the sandbox hub when no upstream is configured
 * (and a development key when none is given), builds the container and the server, listens, and closes
 * everything in order on `close()`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { DependencyContainer } from 'tsyringe';
import type { AppConfig } from '../config/config';
import { closeAppContainer, createAppContainer, type AppContainerOverrides } from '../di/container';
import type { Channel } from '../routing/channels';
import { CHANNELS, LOGGER } from '../di/tokens';
import { startSandboxHub, type SandboxHub, type SandboxTiming } from '../sandbox';
import type { Logger } from '../core/ports';
import type { BridgePluginOptions } from './plugin';
import { buildServer } from './server';

/** Options of startGateway. */
export interface StartGatewayOptions extends AppContainerOverrides, BridgePluginOptions {
  /** Phase durations of the sandbox hub (sandbox mode only). */
  readonly sandboxTiming?: SandboxTiming;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port` the server listens on. */
  readonly url: string;
  /** The configuration actually used (with the sandbox channel and development key filled in). */
  readonly config: AppConfig;
  /** The application container. */
  readonly container: DependencyContainer;
  /** The fastify server. */
  readonly server: FastifyInstance;
  /** The sandbox hub, in sandbox mode. */
  readonly sandbox?: SandboxHub;
  /** The generated development key, in sandbox mode without GATEWAY_API_KEYS. */
  readonly developmentKey?: string;
  /** The generated webhook signing secret, in sandbox mode without WEBHOOK_SECRET (printed in the banner, never logged). */
  readonly developmentWebhookSecret?: string;
  /** Stops accepting, finishes in-flight requests (up to the grace period), then closes store, clients and sandbox. */
  close(): Promise<void>;
}

/** Starts the gateway described by `config`. */
export async function startGateway(config: AppConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  let effective = config;
  let sandbox: SandboxHub | undefined;
  let developmentKey: string | undefined;
  let developmentWebhookSecret: string | undefined;
  if (config.sandbox) {
    sandbox = await startSandboxHub({ ...(options.sandboxTiming ? { timing: options.sandboxTiming } : {}) });
    effective = { ...effective, hub: { baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey } };
    if (config.apiKeys.length === 0) {
      developmentKey = `sk-dev-${randomBytes(18).toString('base64url')}`;
      effective = { ...effective, apiKeys: [{ key: developmentKey, owner: 'developer', label: 'developer' }] };
    }
    if (config.webhooks.secret === undefined) {
      // Like the development key: a newcomer can try callback_url at once; production sets its own secret.
      developmentWebhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
      effective = { ...effective, webhooks: { ...effective.webhooks, secret: developmentWebhookSecret } };
    }
  }

  let container: DependencyContainer | undefined;
  let listenUrl: string | undefined;
  try {
    // Without PUBLIC_BASE_URL, stored images are served at the URL this server listens on.
    container = createAppContainer(effective, { publicBaseUrl: () => listenUrl, ...options });
    const server = buildServer(container, { ...(options.openapi !== undefined ? { openapi: options.openapi } : {}) });
    await server.listen({ port: effective.port, host: effective.host });
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : effective.port;
    const host = effective.host.includes(':') ? `[${effective.host}]` : effective.host;
    listenUrl = `http://${host}:${port}`;
    const logger = container.resolve<Logger>(LOGGER);
    if (effective.blobs.publicBaseUrl === undefined && (effective.host === '0.0.0.0' || effective.host === '::')) {
      logger.warn({ event: 'blob_urls_unroutable', url: listenUrl }, `PUBLIC_BASE_URL is not set and the server listens on ${effective.host}: URLs of stored images name ${listenUrl}; set PUBLIC_BASE_URL to the URL clients reach the bridge at`);
    }
    const channels = container.resolve<readonly Channel[]>(CHANNELS);
    if (sandbox) {
      logger.warn({ event: 'sandbox_mode', sandbox_url: sandbox.baseUrl, development_key: developmentKey !== undefined }, 'SANDBOX MODE: no upstream is configured; the built-in sandbox hub answers with placeholder images');
    }
    logger.info(
      {
        event: 'listening',
        url: `http://${host}:${port}`,
        channels: channels.map((ch) => ({ id: ch.id, adapter: ch.adapterId, priority: ch.priority, weight: ch.weight })),
        task_store: effective.taskStore,
        keys: effective.apiKeys.length,
        webhooks: effective.webhooks.secret !== undefined,
      },
      'image-task-bridge listening',
    );
    const app = container;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), effective.limits.shutdownGraceMs).unref());
        // node's close() drops only the keep-alive sockets idle at that moment; a socket whose request is
        // still running becomes idle later and would hold close() open until its keep-alive timeout.
        const sweeper = setInterval(() => server.server.closeIdleConnections(), 50);
        sweeper.unref();
        const closed = await Promise.race([server.close().then(() => 'closed' as const), grace]).finally(() => clearInterval(sweeper));
        if (closed === 'timeout') {
          logger.warn({ grace_ms: effective.limits.shutdownGraceMs }, 'shutdown grace period over; closing remaining connections');
          server.server.closeAllConnections();
        }
        await closeAppContainer(app);
        await sandbox?.close();
        logger.info({ event: 'stopped' }, 'image-task-bridge stopped');
      })());
    return {
      url: `http://${host}:${port}`,
      config: effective,
      container,
      server,
      ...(sandbox ? { sandbox } : {}),
      ...(developmentKey ? { developmentKey } : {}),
      ...(developmentWebhookSecret ? { developmentWebhookSecret } : {}),
      close,
    };
  } catch (err) {
    if (container) await closeAppContainer(container).catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    throw err;
  }
}
