/**
 * Every injection token of the bridge. Embedders replace a port by registering their own value for its
 * token in the child container before the app resolves (see docs/embedding.md).
 */
import type { InjectionToken } from 'tsyringe';
import type { ImageAdapter } from '../adapter-kit/contract';

/** All upstream adapters (multi-registered; consumed with @injectAll). */
export const ADAPTERS: InjectionToken<ImageAdapter> = Symbol('ImageAdapter');
/** The task store port (memory or Redis). */
export const TASK_STORE = Symbol('TaskStore');
/** The usage sink port (billing). */
export const USAGE_SINK = Symbol('UsageSink');
/** The authenticator port (API key -> owner). */
export const AUTHENTICATOR = Symbol('Authenticator');
/** The clock port (milliseconds since epoch). */
export const CLOCK = Symbol('Clock');
/** The randomness port (task ids, jitter, weighted picks). */
export const RANDOM = Symbol('Random');
/** The structured logger port (pino-compatible). */
export const LOGGER = Symbol('Logger');
/** The validated configuration. */
export const CONFIG = Symbol('Config');
/** The configured upstream channels. */
export const CHANNELS = Symbol('Channels');
/** The shared upstream HTTP client. */
export const UPSTREAM_CLIENT = Symbol('UpstreamClient');
/** The metrics registry. */
export const METRICS = Symbol('Metrics');
/** The task API the HTTP layer calls (TaskService by default). */
export const TASK_API = Symbol('TaskApi');
/** The channel router. */
export const CHANNEL_ROUTER = Symbol('ChannelRouter');
/** Normalizer limits (NormalizeOptions). */
export const NORMALIZE_OPTIONS = Symbol('NormalizeOptions');
/** Options of the HTTP upstream client (timeouts, size limits, retry policy); optional, defaults apply. */
export const UPSTREAM_CLIENT_OPTIONS = Symbol('UpstreamClientOptions');
/** Options of the per-channel circuit breaker (threshold, cool-down); optional, defaults apply. */
export const CIRCUIT_BREAKER_OPTIONS = Symbol('CircuitBreakerOptions');
/** Options of the task service (poll interval, task deadline); optional, defaults apply. */
export const TASK_OPTIONS = Symbol('TaskOptions');
/** The validated price table (Prices, src/tasks/pricing.ts); optional, DEFAULT_PRICES apply. */
export const PRICES = Symbol('Prices');
/** Per-owner submit limits (SubmitLimiter, src/security/ports.ts); optional: without one, submits are not limited. */
export const SUBMIT_LIMITER = Symbol('SubmitLimiter');
/** The BlobStore port (src/blobs/blob-store.ts): where image bytes from upstreams are kept (filesystem or S3). */
export const BLOB_STORE = Symbol('BlobStore');
/** The BlobUrls that mint and check the URLs serving stored blobs (src/blobs/blob-urls.ts). */
export const BLOB_URLS = Symbol('BlobUrls');
/** The result-URL check (ResultUrlCheck, src/security/result-url-policy.ts); optional: http(s) only by default. */
export const RESULT_URL_CHECK = Symbol('ResultUrlCheck');
/** Copies result images of channels with mirror_results into the BlobStore (ResultMirror, src/blobs/result-mirror.ts); optional: without one, nothing is mirrored. */
export const RESULT_MIRROR = Symbol('ResultMirror');
/** Options of the built-in ResultMirror (ResultMirrorOptions: size and time limits, hosts the address guard lets through); optional. */
export const RESULT_MIRROR_OPTIONS = Symbol('ResultMirrorOptions');
/** Delivers terminal tasks to their callback URL (TaskNotifier, src/tasks/ports.ts); optional: without one, callbackUrl is stored only. */
export const TASK_NOTIFIER = Symbol('TaskNotifier');
/** Who runs due tasks (TaskScheduler, src/tasks/engine/task-scheduler.ts): in-process timers or BullMQ. */
export const TASK_SCHEDULER = Symbol('TaskScheduler');
/** The task engine (TaskEngine, src/tasks/engine/task-engine.ts); optional: without one, tasks advance only when queried. */
export const TASK_ENGINE = Symbol('TaskEngine');
/** Options of the task engine (EngineOptions: concurrency, per-channel poll limits, retry backoff); optional, defaults apply. */
export const ENGINE_OPTIONS = Symbol('EngineOptions');
/** Fetches reference images for upstreams that take files (ReferenceFetcher, src/tasks/reference-bytes.ts); optional, defaults apply. */
export const REFERENCE_FETCHER = Symbol('ReferenceFetcher');
