/**
 * image-task-bridge, the library: everything an embedder needs to mount the platform API in its own
 * server and plug in its own auth, storage, billing, clock and logging (docs/embedding.md).
 */
import 'reflect-metadata';

// Composition root and tokens.
export { createAppContainer, closeAppContainer, createTranslationContainer, appChannels } from './di/container';
export { systemClock, cryptoRandom } from './core/system';
export type { AppContainerOverrides } from './di/container';
export * from './di/tokens';

// Configuration.
export { loadConfig, parseGatewayKeys, DEFAULT_LIMITS, DEFAULT_BLOB_URL_TTL_MS, LIMIT_VARIABLES, LOG_LEVELS } from './config/config';
export type { BlobConfig, AppConfig, GatewayKey, Limits, LogLevel, LoadConfigOptions } from './config/config';

// HTTP: standalone server, fastify plugin, node:http/Express handler.
export { buildServer, createRequestHandler } from './http/server';
export type { BridgeRequestHandler, RequestHandlerOptions } from './http/server';
export type { BridgeRouteOptions } from './http/bridge-routes';
export { createBridgePlugin, SECURITY_HEADERS } from './http/plugin';
export type { BridgePluginOptions } from './http/plugin';
export { buildOpenApiDocument, OPENAPI_PATH } from './http/openapi';
export type { OpenApiOptions } from './http/openapi';
export { startGateway } from './http/gateway';
export type { Gateway, StartGatewayOptions } from './http/gateway';
export { ApiKeyAuthenticator, bearerToken } from './http/auth';
export { PromMetrics } from './http/metrics';
export { createPinoLogger, REDACT_PATHS } from './http/logger';

// Platform contract.
export { BridgeError, ValidationError, ModelUnavailableError, UpstreamError, ConfigError, isBridgeError, ERROR_STATUS, ERROR_CODES, ERROR_DESCRIPTIONS } from './platform/errors';
export type { ErrorCode, ErrorEnvelope, UpstreamFailureKind } from './platform/errors';
export { MODEL_CATALOG, MODEL_NAMES, findModel } from './platform/catalog';
export type { CatalogModel, Family, OutputFormat, Quality, Resolution, TaskType } from './platform/catalog';
export { submitRequestSchema, multipartFieldsToBody } from './platform/submit-request';
export type { RawSubmit, SubmitRequest, Upload } from './platform/submit-request';
export { platformTaskSchema, queryEnvelopeSchema, errorEnvelopeSchema, isTerminal } from './platform/task';
export type { PlatformTask, QueryEnvelope, TaskStatus } from './platform/task';
export { healthResponseSchema, readyResponseSchema } from './platform/probe-responses';
export type { HealthResponse, ReadyResponse } from './platform/probe-responses';

// Translation.
export { normalizePlatformRequest, DEFAULT_NORMALIZE_OPTIONS } from './intent/normalize';
export type { NormalizeOptions } from './intent/normalize';
export type { ImageIntent, ImageRef, Warning, Geometry, BillingInfo } from './intent/intent';
export { planSubmit } from './routing/plan';
export type { SubmitPlan } from './routing/plan';
export { AdapterRegistry } from './routing/registry';
export { applyParamMap } from './adapter-kit/param-map';
export type { ParamMap, ParamMapEntry } from './adapter-kit/param-map';
export type * from './adapter-kit/contract';
export { isBytesImage } from './adapter-kit/contract';
export { whyNotServed, refusal } from './adapter-kit/capabilities';

// The built-in adapters, for out-of-tree use (wrap, extend, or run one in a host's own registry). A host adds its
// own adapter next to these with createAppContainer(config, { adapters: [MyAdapter] }).
export { ADAPTER_CLASSES as BUILT_IN_ADAPTERS, HubAdapter, FalAdapter, ExampleAdapter, ReplicateAdapter, OpenAIAdapter } from './di/adapter-classes';
export type { Channel, ChannelRouter } from './routing/channels';

// Tasks: ports and their default implementations.
export type { Clock, Random, Logger, Metrics } from './core/ports';
export type { TaskStore, IdempotencyEntry, IdempotencyReservation, SettlementClaim, TaskNotifier, UsageSink, UsageEvent, Authenticator, Principal, RequestContext, SubmitOptions, TaskApi } from './tasks/ports';
export type { TaskRecord } from './tasks/task-record';
export { TaskService } from './tasks/task-service';
export type { TaskServiceOptions } from './tasks/task-service';
export { DEFAULT_TASK_OPTIONS } from './tasks/task-options';
export type { TaskOptions } from './tasks/task-options';
export { MemoryTaskStore } from './tasks/memory-task-store';
export { RedisTaskStore } from './tasks/redis-task-store';
export type { RedisTaskStoreOptions } from './tasks/redis-task-store';
export { LogUsageSink } from './tasks/log-usage-sink';
export { DEFAULT_PRICES, parsePrices, computeCost } from './tasks/pricing';
export type { ModelPrice, Prices, TierQualityPrices } from './tasks/pricing';

// Stored images (BlobStore port, its implementations and the URLs that serve them).
export type { BlobStore, BlobContent, StoredBlob } from './blobs/blob-store';
export { BLOB_MEDIA_TYPES, checkedBlobType, isBlobKey, mediaTypeOfKey, newBlobKey } from './blobs/blob-keys';
export { BlobUrls, BLOB_ROUTE_PATH } from './blobs/blob-urls';
export type { BlobUrlOptions, BlobUrlVerdict } from './blobs/blob-urls';
export { FileSystemBlobStore } from './blobs/fs-blob-store';
export type { FileSystemBlobStoreOptions } from './blobs/fs-blob-store';
export { S3BlobStore } from './blobs/s3-blob-store';
export type { S3BlobStoreOptions } from './blobs/s3-blob-store';
export { HttpResultMirror, DEFAULT_RESULT_MIRROR_OPTIONS } from './blobs/result-mirror';
export type { ResultMirror, ResultMirrorOptions, MirrorOutcome } from './blobs/result-mirror';

// Upstream I/O.
export { HttpUpstreamClient } from './upstream/http-upstream-client';
export type { UpstreamClientOptions } from './upstream/http-upstream-client';
export type { UpstreamClient, UpstreamOperation } from './upstream/upstream-client';

// Sandbox hub.
export { startSandboxHub } from './sandbox';
export type { SandboxHub, SandboxHubOptions } from './sandbox';
