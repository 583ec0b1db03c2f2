/**
 * The composition root: the only place that registers anything. Each call builds a child of the root
 * container, so every app instance and every test gets its own graph.
 */
import 'reflect-metadata';
import type { DestinationStream } from 'pino';
import { container as rootContainer, instanceCachingFactory, Lifecycle, type DependencyContainer, type InjectionToken } from 'tsyringe';
import type { constructor } from 'tsyringe/dist/typings/types';
import type { ImageAdapter } from '../adapter-kit/contract';
import { ADAPTER_CLASSES } from './adapter-classes';
import type { BlobStore } from '../blobs/blob-store';
import { BlobUrls } from '../blobs/blob-urls';
import { FileSystemBlobStore } from '../blobs/fs-blob-store';
import { HttpResultMirror, type ResultMirror, type ResultMirrorOptions } from '../blobs/result-mirror';
import { cryptoRandom, systemClock } from '../core/system';
import { AdapterRegistry } from '../routing/registry';
import { channelsFromConfig } from '../routing/channel-config';
import type { Channel, ChannelRouter } from '../routing/channels';
import { WeightedChannelRouter } from '../routing/router';
import { ConfigError } from '../platform/errors';
import type { AppConfig } from '../config/config';
import { ApiKeyAuthenticator } from '../http/auth';
import { asLoggerPort, createPinoLogger } from '../http/logger';
import { PromMetrics } from '../http/metrics';
import type { NormalizeOptions } from '../intent/normalize';
import { LogUsageSink } from '../tasks/log-usage-sink';
import { MemoryTaskStore } from '../tasks/memory-task-store';
import { HttpReferenceFetcher, type ReferenceFetcher } from '../tasks/reference-bytes';
import type { Clock, Logger, Random } from '../core/ports';
import type { TaskNotifier, TaskStore } from '../tasks/ports';
import { buildTaskNotifier } from './task-notifier';
import { resolveEngineOptions, type EngineOptions } from '../tasks/engine/engine-options';
import { MemoryTaskScheduler } from '../tasks/engine/memory-task-scheduler';
import { TaskEngine } from '../tasks/engine/task-engine';
import type { TaskScheduler } from '../tasks/engine/task-scheduler';
import { UsageSettlement } from '../tasks/settlement';
import { TaskAdvancer } from '../tasks/task-advancer';
import type { TaskOptions } from '../tasks/task-options';
import { TaskService } from '../tasks/task-service';
import { preferWaitTimeoutMs, TaskSubmitter } from '../tasks/task-submitter';
import { MemorySubmitLimiter, type SubmitLimits } from '../security/submit-limiter';
import { createReferenceUrlCheck } from '../security/url-policy';
import { createResultUrlCheck, type ResultUrlCheck } from '../security/result-url-policy';
import type { SubmitLimiter } from '../security/ports';
import { DEFAULT_UPSTREAM_CLIENT_OPTIONS, HttpUpstreamClient, type UpstreamClientOptions } from '../upstream/http-upstream-client';
import { idempotencyPendingTtlMs } from '../security/idempotency';
import type { UpstreamClient } from '../upstream/upstream-client';
import { loadBullMqTaskScheduler, loadRedisSubmitLimiter, loadRedisTaskStore, loadS3BlobStore } from './optional-modules';
import {
  ADAPTERS,
  AUTHENTICATOR,
  BLOB_STORE,
  BLOB_URLS,
  CHANNEL_ROUTER,
  CHANNELS,
  CLOCK,
  CONFIG,
  ENGINE_OPTIONS,
  LOGGER,
  METRICS,
  NORMALIZE_OPTIONS,
  PRICES,
  REFERENCE_FETCHER,
  RESULT_MIRROR,
  RESULT_MIRROR_OPTIONS,
  RESULT_URL_CHECK,
  UPSTREAM_CLIENT_OPTIONS,
  RANDOM,
  SUBMIT_LIMITER,
  TASK_API,
  TASK_ENGINE,
  TASK_NOTIFIER,
  TASK_OPTIONS,
  TASK_SCHEDULER,
  TASK_STORE,
  UPSTREAM_CLIENT,
  USAGE_SINK,
} from './tokens';

/** Builds a container with every adapter registered under ADAPTERS and the registry. */
export function createTranslationContainer(parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  for (const cls of ADAPTER_CLASSES) c.register(ADAPTERS, { useClass: cls });
  c.register(AdapterRegistry, { useClass: AdapterRegistry });
  return c;
}

/** How an embedder changes the graph built by createAppContainer. */
export interface AppContainerOverrides {
  /** Parent container; tokens already registered there (or in it's parents) are kept. Default: the root. */
  readonly parent?: DependencyContainer;
  /** Registers the embedder's own implementations in the new child container before any default. */
  readonly register?: (container: DependencyContainer) => void;
  /** Where the default pino logger writes (default stdout). */
  readonly logDestination?: DestinationStream;
  /** Collect prom-client's process metrics (default true). */
  readonly processMetrics?: boolean;
  /**
   * The URL clients reach the bridge at, when PUBLIC_BASE_URL is not set (the standalone gateway answers its
   * listen URL once it listens). Neither: blob URLs are path-only and a warning says so.
   */
  readonly publicBaseUrl?: () => string | undefined;
  /**
   * Adapters the host adds next to the built-in ones (classes, or instances): `createAppContainer(config,
   * { adapters: [MyAdapter] })`. Their ids must differ from the built-ins'; CONFIG_FILE channels may name them.
   */
  readonly adapters?: ReadonlyArray<constructor<ImageAdapter> | ImageAdapter>;
}

/**
 * In sandbox mode NanoBanana runs on the sandbox's Gemini-shaped endpoint, so `npm start` shows the synchronous
 * flow (the engine makes the call, the image comes back as bytes into the BlobStore) next to the hub's
 * submit-and-poll flow, which every other model keeps (README, "Install, start, test"). A NanoBanana request the
 * gemini adapter cannot serve (jpeg, webp, more than 3 references) goes to the sandbox hub.
 */
export const SANDBOX_SYNC_CHANNEL = { id: 'sandbox-gemini', adapterId: 'gemini', models: ['NanoBanana'], priority: 1 } as const;

/**
 * The channels configured by `config`: the hub channel (`hub` from HUB_BASE_URL, or `sandbox` and
 * SANDBOX_SYNC_CHANNEL in sandbox mode), then
 * CONFIG_FILE's channels checked against the registered adapters. Throws ConfigError.
 */
export function appChannels(config: AppConfig, registry: AdapterRegistry): Channel[] {
  const channels: Channel[] = [];
  if (config.hub) {
    channels.push({ id: config.sandbox ? 'sandbox' : 'hub', adapterId: 'hub', baseUrl: config.hub.baseUrl, apiKey: config.hub.apiKey, priority: 0, weight: 1 });
    if (config.sandbox) channels.push({ ...SANDBOX_SYNC_CHANNEL, baseUrl: config.hub.baseUrl, apiKey: config.hub.apiKey, weight: 1 });
  }
  if (config.file.channels !== undefined) {
    for (const channel of channelsFromConfig(config.file.channels, config.channelEnv, registry)) {
      if (channels.some((c) => c.id === channel.id)) {
        throw new ConfigError(`CONFIG_FILE channels: the id "${channel.id}" is taken by the channel HUB_BASE_URL configures; choose another id.`);
      }
      channels.push(channel);
    }
  }
  return channels;
}

/** Resources created by createAppContainer, closed by closeAppContainer (embedder-supplied ones are theirs). */
const owned = new WeakMap<DependencyContainer, Array<() => Promise<void>>>();

/**
 * Builds the application graph for `config` in a child container. Every registration is skipped when the
 * token is already registered (by `overrides.register` or in `overrides.parent`): that is how embedders
 * replace a port (TaskStore, UsageSink, Authenticator, Clock, Random, Logger, Metrics, TaskApi).
 */
export function createAppContainer(config: AppConfig, overrides: AppContainerOverrides = {}): DependencyContainer {
  const c = (overrides.parent ?? rootContainer).createChildContainer();
  overrides.register?.(c);
  const closers: Array<() => Promise<void>> = [];
  owned.set(c, closers);
  const has = (token: InjectionToken<unknown>): boolean => c.isRegistered(token, true);
  // Lazy singletons: nothing (a Redis connection, say) is created unless something resolves it.
  const value = <T>(token: InjectionToken<T>, make: () => T): void => {
    if (!has(token)) c.register(token, { useFactory: instanceCachingFactory<T>(() => make()) });
  };

  value(CONFIG, () => config);
  value(LOGGER, (): Logger => asLoggerPort(createPinoLogger(config.logLevel, overrides.logDestination)));
  value(CLOCK, () => systemClock);
  value(RANDOM, () => cryptoRandom);
  // The HTTP layer always reads its own metrics through the PromMetrics token; METRICS (the core's port)
  // gets the same instance unless the embedder brings their own.
  value(PromMetrics, () => new PromMetrics({ processMetrics: overrides.processMetrics ?? true }));
  value<PromMetrics>(METRICS as InjectionToken<PromMetrics>, () => c.resolve(PromMetrics));

  // Built-in adapters, then the host's own (`overrides.adapters`): a host adds an adapter without replacing the
  // built-ins. Registering ADAPTERS itself (in `register` or the parent) still replaces the whole set.
  if (!has(ADAPTERS)) {
    for (const cls of ADAPTER_CLASSES) c.register(ADAPTERS, { useClass: cls });
    for (const adapter of overrides.adapters ?? []) {
      if (typeof adapter === 'function') c.register(ADAPTERS, { useClass: adapter });
      else c.register(ADAPTERS, { useValue: adapter });
    }
  } else if ((overrides.adapters ?? []).length > 0) {
    throw new ConfigError('overrides.adapters adds to the built-in adapters; it cannot be combined with registering ADAPTERS yourself (register the extra adapters there too).');
  }
  if (!has(AdapterRegistry)) c.register(AdapterRegistry, { useClass: AdapterRegistry });
  value(CHANNELS, () => appChannels(config, c.resolve(AdapterRegistry)));
  value<ChannelRouter>(CHANNEL_ROUTER, () => c.resolve(WeightedChannelRouter));
  value<NormalizeOptions>(NORMALIZE_OPTIONS, () => ({
    maxPromptLength: config.limits.maxPromptLength,
    maxReferences: config.limits.maxReferences,
    maxImageBytes: config.limits.uploadBytes,
    maxUrlLength: config.limits.maxUrlLength,
    checkUrl: createReferenceUrlCheck(config.referenceUrls),
  }));

  value<ResultUrlCheck>(RESULT_URL_CHECK, () => createResultUrlCheck(config.resultUrls));
  // Reference images fetched for upstreams that take files (src/tasks/reference-bytes.ts): the reference URL
  // policy decides the connect-time guard, and one image is held to the upload limit.
  value<ReferenceFetcher>(REFERENCE_FETCHER, () => {
    const fetcher = new HttpReferenceFetcher({ policy: config.referenceUrls, maxBytes: config.limits.uploadBytes });
    closers.push(async () => fetcher.close());
    return fetcher;
  });

  // The upstream body carries the uploads as base64 (4/3 of their bytes), all within BODY_LIMIT_BYTES: an operator
  // who raises that limit (16 references of 10 MiB need ~161 MiB) must not then be refused at the upstream client.
  value<UpstreamClientOptions>(UPSTREAM_CLIENT_OPTIONS, () => ({
    maxRequestBytes: Math.max(DEFAULT_UPSTREAM_CLIENT_OPTIONS.maxRequestBytes, Math.ceil((config.limits.bodyBytes * 4) / 3) + 1024 * 1024),
  }));

  value<UpstreamClient>(UPSTREAM_CLIENT, () => {
    const client = c.resolve(HttpUpstreamClient);
    closers.push(() => client.close());
    return client;
  });

  value<TaskStore>(TASK_STORE, () => {
    const store: TaskStore =
      config.taskStore === 'redis'
        ? new (loadRedisTaskStore().RedisTaskStore)({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.limits.redisCommandTimeoutMs })
        : new MemoryTaskStore(c.resolve<Clock>(CLOCK));
    closers.push(() => store.close());
    return store;
  });

  value<SubmitLimiter>(SUBMIT_LIMITER, () => {
    const limits: SubmitLimits = {
      ratePerMinute: config.limits.rateLimitPerMinute,
      burst: config.limits.rateLimitBurst,
      maxOpenTasks: config.limits.maxOpenTasksPerOwner,
      // A task ends when polled, or fails at the deadline when polled after it: the slot outlives it a little.
      openTaskTtlMs: config.limits.taskDeadlineMs + 60_000,
    };
    const limiter: SubmitLimiter =
      config.taskStore === 'redis'
        ? new (loadRedisSubmitLimiter().RedisSubmitLimiter)(limits, { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.limits.redisCommandTimeoutMs })
        : new MemorySubmitLimiter(c.resolve<Clock>(CLOCK), limits);
    closers.push(() => limiter.close());
    return limiter;
  });

  value<BlobStore>(BLOB_STORE, () => {
    const random = c.resolve<Random>(RANDOM);
    const randomBytes = (n: number): Buffer => random.bytes(n);
    const { blobs } = config;
    const store: BlobStore =
      blobs.store === 's3' && blobs.s3 !== undefined ? new (loadS3BlobStore().S3BlobStore)({ ...blobs.s3, randomBytes }) : new FileSystemBlobStore({ dir: blobs.dir, randomBytes });
    closers.push(() => store.close());
    return store;
  });
  value(BLOB_URLS, () => {
    const base = config.blobs.publicBaseUrl ?? overrides.publicBaseUrl;
    if (base === undefined) {
      c.resolve<Logger>(LOGGER).warn(
        { event: 'blob_urls_path_only' },
        'PUBLIC_BASE_URL is not set: URLs of images the bridge stores are path-only (/v1/images/blobs/..., without host or mount path); set it to the URL clients reach the bridge at, mount path included',
      );
    }
    return new BlobUrls({
      ...(base !== undefined ? { baseUrl: base } : {}),
      ...(config.blobs.urlSecret !== undefined ? { secret: config.blobs.urlSecret } : {}),
      ttlMs: config.blobs.urlTtlMs,
      clock: c.resolve<Clock>(CLOCK),
    });
  });

  // Mirroring of result images (channels with mirror_results): the address guard lets through only the operator's
  // RESULT_URL_ALLOW_HOSTS and what an embedder or a test registers under RESULT_MIRROR_OPTIONS.
  value<ResultMirror>(RESULT_MIRROR, () => {
    const options: ResultMirrorOptions = has(RESULT_MIRROR_OPTIONS) ? c.resolve<ResultMirrorOptions>(RESULT_MIRROR_OPTIONS) : {};
    const mirror = new HttpResultMirror(c.resolve<BlobStore>(BLOB_STORE), c.resolve<BlobUrls>(BLOB_URLS), {
      ...options,
      allowHosts: [...config.resultUrls.allowHosts, ...(options.allowHosts ?? [])],
    });
    closers.push(async () => mirror.close());
    return mirror;
  });

  if (!has(USAGE_SINK)) c.register(USAGE_SINK, { useClass: LogUsageSink });
  if (!has(AUTHENTICATOR)) c.register(AUTHENTICATOR, { useClass: ApiKeyAuthenticator });
  value(PRICES, () => config.prices);
  const pendingTtl = (): number => {
    const upstream: UpstreamClientOptions = has(UPSTREAM_CLIENT_OPTIONS) ? c.resolve<UpstreamClientOptions>(UPSTREAM_CLIENT_OPTIONS) : {};
    const d = DEFAULT_UPSTREAM_CLIENT_OPTIONS;
    const channels = c.resolve<readonly Channel[]>(CHANNELS);
    // A channel with prefer_wait_seconds holds its submit open longer than the client's submit timeout.
    const submitMs = Math.max(upstream.submitTimeoutMs ?? d.submitTimeoutMs, ...channels.map((ch) => (ch.preferWaitSeconds !== undefined ? preferWaitTimeoutMs(ch.preferWaitSeconds) : 0)));
    return idempotencyPendingTtlMs(submitMs, upstream.connectTimeoutMs ?? d.connectTimeoutMs, channels.length);
  };
  value<TaskOptions>(TASK_OPTIONS, () => ({
    pollIntervalMs: config.limits.pollIntervalMs,
    deadlineMs: config.limits.taskDeadlineMs,
    queryWaitMs: config.limits.queryWaitMs,
    idempotencyTtlMs: config.limits.idempotencyTtlMs,
    // A pending key lives as long as a submit can run, not 5 minutes (src/security/idempotency.ts).
    idempotencyPendingTtlMs: pendingTtl(),
  }));
  // One of each task unit per container: the query path and the engine share the advancer's coalescing map.
  if (!has(UsageSettlement)) c.register(UsageSettlement, { useClass: UsageSettlement }, { lifecycle: Lifecycle.ContainerScoped });
  if (!has(TaskAdvancer)) c.register(TaskAdvancer, { useClass: TaskAdvancer }, { lifecycle: Lifecycle.ContainerScoped });
  if (!has(TaskSubmitter)) c.register(TaskSubmitter, { useClass: TaskSubmitter }, { lifecycle: Lifecycle.ContainerScoped });
  // The configuration's engine limits, under whatever ENGINE_OPTIONS the embedder (or a test) registered.
  const engineOptions: EngineOptions = {
    concurrency: config.limits.engineConcurrency,
    pollConcurrencyPerChannel: config.limits.pollConcurrencyPerChannel,
    pollRatePerChannel: config.limits.pollRatePerChannel,
    ...(has(ENGINE_OPTIONS) ? c.resolve<EngineOptions>(ENGINE_OPTIONS) : {}),
  };
  c.register(ENGINE_OPTIONS, { useValue: engineOptions });
  value<TaskScheduler>(TASK_SCHEDULER, () => {
    const options = resolveEngineOptions(engineOptions);
    if (config.taskStore !== 'redis') return new MemoryTaskScheduler({ concurrency: Math.max(1, options.concurrency), retryMs: options.retryFirstMs });
    const logger = c.resolve<Logger>(LOGGER);
    // The engine's BullMQ keys sit under the deployment's prefix: `${REDIS_KEY_PREFIX}engine:tasks:...`.
    return new (loadBullMqTaskScheduler().BullMqTaskScheduler)({
      url: config.redisUrl,
      prefix: `${config.redisKeyPrefix}engine`,
      queueName: options.queueName,
      concurrency: Math.max(1, options.concurrency),
      retryMs: options.retryFirstMs,
      lockDurationMs: options.lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs,
      onError: (err) => logger.error({ event: 'engine_queue_error', error: { name: err.name, message: err.message } }, 'task engine queue error'),
    });
  });
  // Webhook delivery (docs/operations.md "Webhooks"), only with a WEBHOOK_SECRET (without one, callback_url is refused):
  // BullMQ on the store's Redis for TASK_STORE=redis, in-process timers for the memory store.
  const webhookSecret = config.webhooks.secret;
  if (webhookSecret !== undefined) {
    value<TaskNotifier>(TASK_NOTIFIER, () => {
      const built = buildTaskNotifier(config, webhookSecret, c.resolve<Clock>(CLOCK), c.resolve<Logger>(LOGGER), c.resolve(PromMetrics));
      closers.push(() => built.close());
      return built.notifier;
    });
  }
  // The engine starts with the task API (a server or a mounted plugin resolves it) and stops first on close.
  const engine = resolveEngineOptions(engineOptions);
  // ENGINE_CONCURRENCY=0 on the memory store: nobody else would run the schedule, so no engine at all.
  if (!has(TASK_ENGINE) && engine.enabled && (engine.concurrency > 0 || config.taskStore === 'redis')) {
    value(TASK_ENGINE, () => {
      const engine = c.resolve(TaskEngine);
      closers.push(() => engine.stop());
      const logger = c.resolve<Logger>(LOGGER);
      engine.start().catch((err: unknown) => logger.error({ event: 'engine_start_failed', error: { message: err instanceof Error ? err.message : String(err) } }, 'task engine did not start; tasks advance only when queried'));
      return engine;
    });
  }
  value(TASK_API, () => c.resolve(TaskService));
  // Channel problems are configuration errors: surface them now, as the ConfigError itself (tsyringe
  // would wrap it in a "Cannot inject" error if it first happened inside a constructor injection).
  const channels = c.resolve<readonly Channel[]>(CHANNELS);
  // An embedded bridge with no upstream refuses every submit; say so once, loudly, when it is built. A warning,
  // not a refusal: a host whose image feature is not configured yet still boots (docs/embedding.md).
  if (channels.length === 0) {
    c.resolve<Logger>(LOGGER).warn(
      { event: 'no_upstream_channels' },
      'NO UPSTREAM CONFIGURED: every image submit will be refused with model_unavailable. Set HUB_BASE_URL and HUB_API_KEY or CONFIG_FILE channels, or run the sandbox hub in-process with startSandboxHub() (docs/embedding.md, "No upstream configured")',
    );
  }
  return c;
}

/** Closes what createAppContainer created (task store, upstream client); embedder-supplied ports are left alone. */
export async function closeAppContainer(c: DependencyContainer): Promise<void> {
  const closers = owned.get(c) ?? [];
  owned.delete(c);
  for (const close of closers.reverse()) await close();
}
