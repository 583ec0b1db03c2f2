/**
 * Configuration from the environment plus an optional JSON file (CONFIG_FILE), validated with zod
 * (docs/configuration.md: the variable names are a contract). Any problem is one ConfigError with one line.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_NORMALIZE_OPTIONS } from '../intent/normalize';
import type { S3BlobStoreOptions } from '../blobs/s3-blob-store';
import { ConfigError } from '../platform/errors';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../security/redis-unavailable';
import { RESULT_URL_MODES, type ResultUrlMode, type ResultUrlPolicyOptions } from '../security/result-url-policy';
import { normalizeAllowedHost, REFERENCE_URL_MODES, type ReferenceUrlMode, type ReferenceUrlPolicyOptions } from '../security/url-policy';
import { parsePrices, type Prices } from '../tasks/pricing';
import { DEFAULT_ENGINE_OPTIONS } from '../tasks/engine/engine-options';
import { DEFAULT_TASK_OPTIONS } from '../tasks/task-options';
import { DEFAULT_WEBHOOK_RETRY_POLICY } from '../webhooks/retry-schedule';
import { webhookSecretProblem } from '../webhooks/webhook-signer';
import { configFileSchema, type ConfigFile } from './config-file';

/** Log levels pino understands. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One accepted client key. */
export interface GatewayKey {
  /** The secret key (compared in constant time; never logged). */
  readonly key: string;
  /** Owner id: tasks are visible only to it. */
  readonly owner: string;
  /** Non-secret label for logs. */
  readonly label: string;
}

/** Limits of the HTTP layer and the task service. */
export interface Limits {
  /** Largest request body (JSON or the whole multipart body), in bytes. */
  readonly bodyBytes: number;
  /** Largest single uploaded or data-URI image, in bytes. */
  readonly uploadBytes: number;
  /** Most reference images per request (uploads plus URLs). */
  readonly maxReferences: number;
  /** Longest prompt, in characters. */
  readonly maxPromptLength: number;
  /** Longest reference URL, in characters. */
  readonly maxUrlLength: number;
  /** Least time between two upstream polls of one task, in ms. */
  readonly pollIntervalMs: number;
  /** A task not terminal this long after submit is failed, in ms. */
  readonly taskDeadlineMs: number;
  /** Longest a query waits for an upstream poll before answering the stored task, in ms. */
  readonly queryWaitMs: number;
  /** Time allowed to finish in-flight requests on shutdown, in ms. */
  readonly shutdownGraceMs: number;
  /** Submits per minute per owner (token bucket refill). */
  readonly rateLimitPerMinute: number;
  /** Submits an idle owner may send at once (token bucket capacity). */
  readonly rateLimitBurst: number;
  /** Most open (queued or processing) tasks per owner. */
  readonly maxOpenTasksPerOwner: number;
  /** How long an Idempotency-Key is remembered, in ms. */
  readonly idempotencyTtlMs: number;
  /** Longest wait for one Redis reply before the request fails with 503, in ms. */
  readonly redisCommandTimeoutMs: number;
  /** Most TCP connections the standalone server holds open at once (idle keep-alive ones count). */
  readonly maxConnections: number;
  /** Most tasks the engine advances at once per instance. */
  readonly engineConcurrency: number;
  /** Most engine polls in flight per channel per instance. */
  readonly pollConcurrencyPerChannel: number;
  /** Most engine polls started per second per channel per instance. */
  readonly pollRatePerChannel: number;
}

/** Where image bytes from upstreams are stored and how they are served (docs/configuration.md: BLOB_*, S3_*). */
export interface BlobConfig {
  /** Which BlobStore implementation to use. */
  readonly store: 'fs' | 's3';
  /** Directory of the filesystem store (BLOB_STORE=fs). */
  readonly dir: string;
  /** The bucket and its access (BLOB_STORE=s3). */
  readonly s3?: Omit<S3BlobStoreOptions, 'randomBytes' | 'requestTimeoutMs'>;
  /** Signing secret of blob URLs; unset: URLs are unsigned (the random key is the capability). */
  readonly urlSecret?: string;
  /** Lifetime of a signed blob URL, in ms. */
  readonly urlTtlMs: number;
  /** The absolute URL clients reach the bridge at, mount path included; unset: the listen URL (standalone). */
  readonly publicBaseUrl?: string;
}

/** Default lifetime of a signed blob URL: 7 days, the task record's retention. */
export const DEFAULT_BLOB_URL_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** The validated configuration of one bridge instance. */
export interface AppConfig {
  /** TCP port to listen on (0: ephemeral). */
  readonly port: number;
  /** Interface to bind. */
  readonly host: string;
  /** Accepted client keys; empty only in sandbox mode before the development key is made. */
  readonly apiKeys: readonly GatewayKey[];
  /** The hub channel from HUB_BASE_URL/HUB_API_KEY, when set. */
  readonly hub?: { readonly baseUrl: string; readonly apiKey: string };
  /** True when neither HUB_BASE_URL nor file channels are configured: the built-in sandbox hub serves. */
  readonly sandbox: boolean;
  /** Which TaskStore implementation to use. */
  readonly taskStore: 'memory' | 'redis';
  /** Redis connection URL (TASK_STORE=redis). */
  readonly redisUrl: string;
  /** Prefix of every Redis key. */
  readonly redisKeyPrefix: string;
  /** pino log level. */
  readonly logLevel: LogLevel;
  /** Limits. */
  readonly limits: Limits;
  /** Which reference-image URLs are accepted (REFERENCE_URL_POLICY, REFERENCE_URL_ALLOW_HOSTS). */
  readonly referenceUrls: ReferenceUrlPolicyOptions;
  /** Webhook delivery (WEBHOOK_SECRET, WEBHOOK_ALLOW_HOSTS, WEBHOOK_RETRY_MAX_MS). */
  readonly webhooks: WebhookConfig;
  /** Which result-image URLs from upstreams reach clients (RESULT_URL_POLICY, RESULT_URL_ALLOW_HOSTS). */
  readonly resultUrls: ResultUrlPolicyOptions;
  /** The price table (CONFIG_FILE `prices`, else the defaults). */
  readonly prices: Prices;
  /** The BlobStore and its URLs. */
  readonly blobs: BlobConfig;
  /** The raw CONFIG_FILE content (empty when there is no file); channels are resolved by the composition root. */
  readonly file: ConfigFile;
  /** The environment variables CONFIG_FILE channels name in `api_key_env` (their keys), and nothing else. */
  readonly channelEnv: Readonly<Record<string, string | undefined>>;
  /** Path of the config file, when one was read. */
  readonly configFile?: string;
}

/** Webhook delivery settings. */
export interface WebhookConfig {
  /** The signing secret (`whsec_` + base64); absent: callback_url is refused (sandbox mode makes a development one). */
  readonly secret?: string;
  /** Hosts that may resolve to private addresses (normalized like REFERENCE_URL_ALLOW_HOSTS). */
  readonly allowHosts: readonly string[];
  /** Total time a delivery is retried for, in ms. */
  readonly retryMaxMs: number;
}

/** Defaults of every limit (documented in the docs/configuration.md table). */
export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 20 * 1024 * 1024,
  // The normalizer's limits have one set of defaults, the normalizer's own.
  uploadBytes: DEFAULT_NORMALIZE_OPTIONS.maxImageBytes,
  maxReferences: DEFAULT_NORMALIZE_OPTIONS.maxReferences,
  maxPromptLength: DEFAULT_NORMALIZE_OPTIONS.maxPromptLength,
  maxUrlLength: DEFAULT_NORMALIZE_OPTIONS.maxUrlLength,
  pollIntervalMs: DEFAULT_TASK_OPTIONS.pollIntervalMs,
  taskDeadlineMs: DEFAULT_TASK_OPTIONS.deadlineMs,
  queryWaitMs: DEFAULT_TASK_OPTIONS.queryWaitMs,
  shutdownGraceMs: 10_000,
  rateLimitPerMinute: 120,
  rateLimitBurst: 30,
  maxOpenTasksPerOwner: 100,
  idempotencyTtlMs: DEFAULT_TASK_OPTIONS.idempotencyTtlMs,
  redisCommandTimeoutMs: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  maxConnections: 10_000,
  engineConcurrency: DEFAULT_ENGINE_OPTIONS.concurrency,
  pollConcurrencyPerChannel: DEFAULT_ENGINE_OPTIONS.pollConcurrencyPerChannel,
  pollRatePerChannel: DEFAULT_ENGINE_OPTIONS.pollRatePerChannel,
};

/** Environment variables that carry limits, with their field. */
export const LIMIT_VARIABLES: Readonly<Record<string, keyof Limits>> = {
  BODY_LIMIT_BYTES: 'bodyBytes',
  UPLOAD_LIMIT_BYTES: 'uploadBytes',
  MAX_REFERENCE_IMAGES: 'maxReferences',
  MAX_PROMPT_LENGTH: 'maxPromptLength',
  MAX_URL_LENGTH: 'maxUrlLength',
  POLL_INTERVAL_MS: 'pollIntervalMs',
  TASK_DEADLINE_MS: 'taskDeadlineMs',
  QUERY_WAIT_MS: 'queryWaitMs',
  SHUTDOWN_GRACE_MS: 'shutdownGraceMs',
  RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  RATE_LIMIT_BURST: 'rateLimitBurst',
  MAX_OPEN_TASKS_PER_OWNER: 'maxOpenTasksPerOwner',
  IDEMPOTENCY_TTL_MS: 'idempotencyTtlMs',
  REDIS_COMMAND_TIMEOUT_MS: 'redisCommandTimeoutMs',
  MAX_CONNECTIONS: 'maxConnections',
  ENGINE_CONCURRENCY: 'engineConcurrency',
  POLL_CONCURRENCY_PER_CHANNEL: 'pollConcurrencyPerChannel',
  POLL_RATE_PER_CHANNEL: 'pollRatePerChannel',
};

const MIN_KEY_LENGTH = 8;

function positiveInt(name: string, raw: string, min = 1): number {
  if (!/^\d{1,15}$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number; got "${raw.slice(0, 40)}".`);
  const n = Number(raw.trim());
  if (n < min) throw new ConfigError(`${name} must be at least ${min}; got ${n}.`);
  return n;
}

function httpUrl(name: string, raw: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} is not a valid URL.`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name} must use ${protocols.join(' or ')}; got ${url.protocol}.`);
  return url.toString().replace(/\/+$/, '');
}

/** A stable, non-secret owner id for a key given without one. */
export function ownerForKey(key: string): string {
  return `key_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** Parses GATEWAY_API_KEYS: comma-separated `key` or `key:owner`. */
export function parseGatewayKeys(raw: string): GatewayKey[] {
  const keys: GatewayKey[] = [];
  const seen = new Set<string>();
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const key = (colon === -1 ? entry : entry.slice(0, colon)).trim();
    const owner = colon === -1 ? undefined : entry.slice(colon + 1).trim();
    const where = `GATEWAY_API_KEYS entry ${index + 1}`;
    if (key.length < MIN_KEY_LENGTH) throw new ConfigError(`${where}: the key must be at least ${MIN_KEY_LENGTH} characters.`);
    if (/\s/.test(key)) throw new ConfigError(`${where}: the key must not contain whitespace.`);
    if (owner !== undefined && !/^[A-Za-z0-9._@-]{1,64}$/.test(owner)) {
      throw new ConfigError(`${where}: the owner must be 1-64 characters of A-Z a-z 0-9 . _ @ -.`);
    }
    if (seen.has(key)) throw new ConfigError(`${where}: the same key is listed twice.`);
    seen.add(key);
    const resolvedOwner = owner ?? ownerForKey(key);
    keys.push({ key, owner: resolvedOwner, label: owner ?? resolvedOwner });
  });
  return keys;
}

/** Reads and validates CONFIG_FILE. */
export function readConfigFile(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): ConfigFile {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ConfigError(`CONFIG_FILE ${path} cannot be read${code ? ` (${code})` : ''}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE ${path} is not valid JSON: ${(err as Error).message}.`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new ConfigError(`CONFIG_FILE ${path}: ${at}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

/** Options of loadConfig (tests inject the file reader). */
export interface LoadConfigOptions {
  /** Reads a file (default fs.readFileSync utf8). */
  readonly readFile?: (path: string) => string;
  /** False when the embedder registers its own Authenticator, so GATEWAY_API_KEYS may be empty (default true). */
  readonly requireGatewayKeys?: boolean;
}

/** The environment variables serve reads, each a string when set (the shape gives their names and the Env type). */
const envSchema = z.object({
  PORT: z.string().optional(),
  HOST: z.string().optional(),
  GATEWAY_API_KEYS: z.string().optional(),
  HUB_BASE_URL: z.string().optional(),
  HUB_API_KEY: z.string().optional(),
  TASK_STORE: z.string().optional(),
  REDIS_URL: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().optional(),
  LOG_LEVEL: z.string().optional(),
  CONFIG_FILE: z.string().optional(),
  REFERENCE_URL_POLICY: z.string().optional(),
  REFERENCE_URL_ALLOW_HOSTS: z.string().optional(),
  PUBLIC_BASE_URL: z.string().optional(),
  BLOB_STORE: z.string().optional(),
  BLOB_DIR: z.string().optional(),
  BLOB_URL_SECRET: z.string().optional(),
  BLOB_URL_TTL_MS: z.string().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().optional(),
  S3_ENDPOINT: z.string().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: z.string().optional(),
  S3_KEY_PREFIX: z.string().optional(),
  WEBHOOK_SECRET: z.string().optional(),
  WEBHOOK_ALLOW_HOSTS: z.string().optional(),
  WEBHOOK_RETRY_MAX_MS: z.string().optional(),
  RESULT_URL_POLICY: z.string().optional(),
  RESULT_URL_ALLOW_HOSTS: z.string().optional(),
});

type Env = z.infer<typeof envSchema>;

/** Every environment variable serve reads (the docs/configuration.md table and --help list exactly these). */
export const CONFIG_VARIABLES: readonly string[] = [...Object.keys(envSchema.shape), ...Object.keys(LIMIT_VARIABLES)];

/** Comma-separated hosts (`*.example.com` for subdomains), normalized; `name` is the variable, for errors. */
function parseHostList(name: string, raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0)
    .map((h) => {
      try {
        return normalizeAllowedHost(h);
      } catch (err) {
        throw new ConfigError(`${name}: ${(err as Error).message}.`);
      }
    });
}

/** WEBHOOK_SECRET, WEBHOOK_ALLOW_HOSTS and WEBHOOK_RETRY_MAX_MS. The secret is never quoted in an error. */
function parseWebhooks(secretRaw: string | undefined, hostsRaw: string | undefined, retryRaw: string | undefined): WebhookConfig {
  const secret = secretRaw?.trim();
  if (secret !== undefined) {
    const problem = webhookSecretProblem(secret);
    if (problem) throw new ConfigError(`WEBHOOK_SECRET ${problem}.`);
  }
  return {
    ...(secret !== undefined ? { secret } : {}),
    allowHosts: parseHostList('WEBHOOK_ALLOW_HOSTS', hostsRaw),
    retryMaxMs: retryRaw === undefined ? DEFAULT_WEBHOOK_RETRY_POLICY.maxTotalMs : positiveInt('WEBHOOK_RETRY_MAX_MS', retryRaw, 0),
  };
}

/**
 * `<prefix>_POLICY` (one of `modes`, default `fallback`) and `<prefix>_ALLOW_HOSTS`, which `allowlist` needs:
 * REFERENCE_URL_* and RESULT_URL_*.
 */
function parseUrlPolicy<M extends string>(prefix: 'REFERENCE_URL' | 'RESULT_URL', modes: readonly M[], fallback: M, modeRaw: string | undefined, hostsRaw: string | undefined): { mode: M; allowHosts: string[] } {
  const mode = (modeRaw ?? fallback).trim().toLowerCase();
  if (!(modes as readonly string[]).includes(mode)) {
    throw new ConfigError(`${prefix}_POLICY must be one of ${modes.join(', ')}; got "${mode.slice(0, 40)}".`);
  }
  const allowHosts = parseHostList(`${prefix}_ALLOW_HOSTS`, hostsRaw);
  if (mode === 'allowlist' && allowHosts.length === 0) throw new ConfigError(`${prefix}_POLICY=allowlist needs ${prefix}_ALLOW_HOSTS (comma-separated hosts, *.example.com for subdomains).`);
  return { mode: mode as M, allowHosts };
}

const S3_VARIABLES = ['S3_BUCKET', 'S3_REGION', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE', 'S3_KEY_PREFIX'] as const;
const MIN_BLOB_SECRET_LENGTH = 32;

/** BLOB_*, S3_* and PUBLIC_BASE_URL. A variable that the chosen store would ignore is an error, not silence. */
function parseBlobConfig(e: Env): BlobConfig {
  const store = (present(e.BLOB_STORE) ?? 'fs').trim().toLowerCase();
  if (store !== 'fs' && store !== 's3') throw new ConfigError(`BLOB_STORE must be fs or s3; got "${store.slice(0, 40)}".`);
  const publicBaseUrlRaw = present(e.PUBLIC_BASE_URL);
  let publicBaseUrl: string | undefined;
  if (publicBaseUrlRaw !== undefined) {
    publicBaseUrl = httpUrl('PUBLIC_BASE_URL', publicBaseUrlRaw, ['http:', 'https:']);
    const url = new URL(publicBaseUrl);
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new ConfigError('PUBLIC_BASE_URL must be a plain base URL (scheme, host, optional path), without query, fragment or credentials.');
    }
  }
  const urlSecret = present(e.BLOB_URL_SECRET);
  if (urlSecret !== undefined && urlSecret.length < MIN_BLOB_SECRET_LENGTH) throw new ConfigError(`BLOB_URL_SECRET must be at least ${MIN_BLOB_SECRET_LENGTH} characters (e.g. openssl rand -base64 32).`);
  const ttlRaw = present(e.BLOB_URL_TTL_MS);
  if (ttlRaw !== undefined && urlSecret === undefined) throw new ConfigError('BLOB_URL_TTL_MS is set but BLOB_URL_SECRET is not: unsigned blob URLs do not expire; set BLOB_URL_SECRET too, or remove BLOB_URL_TTL_MS.');
  const urlTtlMs = ttlRaw === undefined ? DEFAULT_BLOB_URL_TTL_MS : positiveInt('BLOB_URL_TTL_MS', ttlRaw, 1000);
  const common = { urlTtlMs, ...(urlSecret !== undefined ? { urlSecret } : {}), ...(publicBaseUrl !== undefined ? { publicBaseUrl } : {}) };
  const defaultDir = join(tmpdir(), 'image-task-bridge-blobs');

  if (store === 'fs') {
    const stray = S3_VARIABLES.find((name) => present(e[name]) !== undefined);
    if (stray !== undefined) throw new ConfigError(`${stray} is set but BLOB_STORE is fs; set BLOB_STORE=s3 to use S3, or remove the S3_* variables.`);
    return { store, dir: present(e.BLOB_DIR)?.trim() ?? defaultDir, ...common };
  }
  if (present(e.BLOB_DIR) !== undefined) throw new ConfigError('BLOB_DIR is set but BLOB_STORE is s3; remove BLOB_DIR, or set BLOB_STORE=fs.');
  const bucket = present(e.S3_BUCKET)?.trim();
  if (bucket === undefined) throw new ConfigError('S3_BUCKET is required when BLOB_STORE=s3.');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`S3_BUCKET must be a bucket name (3-63 characters of a-z 0-9 . -); got "${bucket.slice(0, 70)}".`);
  const endpointRaw = present(e.S3_ENDPOINT);
  const endpoint = endpointRaw === undefined ? undefined : httpUrl('S3_ENDPOINT', endpointRaw, ['http:', 'https:']);
  const accessKeyId = present(e.S3_ACCESS_KEY_ID)?.trim();
  const secretAccessKey = present(e.S3_SECRET_ACCESS_KEY)?.trim();
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither for the AWS SDK default credentials.');
  }
  const pathStyleRaw = (present(e.S3_FORCE_PATH_STYLE) ?? (endpoint !== undefined ? 'true' : 'false')).trim().toLowerCase();
  if (pathStyleRaw !== 'true' && pathStyleRaw !== 'false') throw new ConfigError(`S3_FORCE_PATH_STYLE must be true or false; got "${pathStyleRaw.slice(0, 20)}".`);
  const keyPrefix = present(e.S3_KEY_PREFIX)?.trim() ?? '';
  if (!/^[A-Za-z0-9!_.*'()/-]{0,200}$/.test(keyPrefix)) throw new ConfigError('S3_KEY_PREFIX must be at most 200 characters of A-Z a-z 0-9 ! _ . * \' ( ) / -.');
  return {
    store,
    dir: defaultDir,
    s3: {
      bucket,
      region: present(e.S3_REGION)?.trim() ?? 'us-east-1',
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      forcePathStyle: pathStyleRaw === 'true',
      keyPrefix,
    },
    ...common,
  };
}


function present(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Builds and validates the configuration from `env`; throws ConfigError (one line) on any problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): AppConfig {
  // Environment values are strings or absent, so there is nothing to parse here: each is checked where it is read.
  const e: Env = env;
  const port = present(e.PORT) === undefined ? 8080 : positiveInt('PORT', e.PORT as string, 0);
  if (port > 65535) throw new ConfigError(`PORT must be 0-65535; got ${port}.`);
  const host = present(e.HOST)?.trim() ?? '127.0.0.1';

  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [name, field] of Object.entries(LIMIT_VARIABLES)) {
    const raw = present(env[name]);
    // ENGINE_CONCURRENCY=0: this instance runs no engine worker (an API-only instance; docs/configuration.md).
    if (raw !== undefined) limits[field] = positiveInt(name, raw, name === 'ENGINE_CONCURRENCY' ? 0 : 1);
  }

  const configFile = present(e.CONFIG_FILE)?.trim();
  const file: ConfigFile = configFile ? readConfigFile(configFile, options.readFile) : {};

  let hub: AppConfig['hub'];
  const hubBaseUrl = present(e.HUB_BASE_URL);
  if (hubBaseUrl !== undefined) {
    const apiKey = present(e.HUB_API_KEY)?.trim();
    if (!apiKey) throw new ConfigError('HUB_API_KEY is required when HUB_BASE_URL is set.');
    hub = { baseUrl: httpUrl('HUB_BASE_URL', hubBaseUrl, ['http:', 'https:']), apiKey };
  } else if (present(e.HUB_API_KEY) !== undefined) {
    throw new ConfigError('HUB_API_KEY is set but HUB_BASE_URL is not; set both, or neither for the sandbox hub.');
  }
  const sandbox = hub === undefined && (file.channels?.length ?? 0) === 0;
  const channelEnv: Record<string, string | undefined> = {};
  for (const entry of file.channels ?? []) {
    const name = typeof entry === 'object' && entry !== null ? (entry as { api_key_env?: unknown }).api_key_env : undefined;
    if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(env, name)) channelEnv[name] = env[name];
  }

  const rawKeys = present(e.GATEWAY_API_KEYS);
  const apiKeys = rawKeys === undefined ? [] : parseGatewayKeys(rawKeys);
  if (rawKeys !== undefined && apiKeys.length === 0) throw new ConfigError('GATEWAY_API_KEYS is set but lists no key.');
  if (apiKeys.length === 0 && !sandbox && options.requireGatewayKeys !== false) {
    throw new ConfigError('GATEWAY_API_KEYS is required when an upstream is configured (comma-separated "key" or "key:owner").');
  }

  const storeRaw = (present(e.TASK_STORE) ?? 'memory').trim().toLowerCase();
  if (storeRaw !== 'memory' && storeRaw !== 'redis') throw new ConfigError(`TASK_STORE must be memory or redis; got "${storeRaw.slice(0, 40)}".`);
  const redisUrl = httpUrl('REDIS_URL', present(e.REDIS_URL) ?? 'redis://127.0.0.1:6379', ['redis:', 'rediss:']);
  const redisKeyPrefix = present(e.REDIS_KEY_PREFIX) ?? 'itb:';

  const level = (present(e.LOG_LEVEL) ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${level.slice(0, 20)}".`);

  return {
    port,
    host,
    apiKeys,
    ...(hub ? { hub } : {}),
    sandbox,
    taskStore: storeRaw,
    redisUrl,
    redisKeyPrefix,
    logLevel: level as LogLevel,
    limits: limits as unknown as Limits,
    referenceUrls: parseUrlPolicy<ReferenceUrlMode>('REFERENCE_URL', REFERENCE_URL_MODES, 'public', present(e.REFERENCE_URL_POLICY), present(e.REFERENCE_URL_ALLOW_HOSTS)),
    webhooks: parseWebhooks(present(e.WEBHOOK_SECRET), present(e.WEBHOOK_ALLOW_HOSTS), present(e.WEBHOOK_RETRY_MAX_MS)),
    resultUrls: parseUrlPolicy<ResultUrlMode>('RESULT_URL', RESULT_URL_MODES, 'http', present(e.RESULT_URL_POLICY), present(e.RESULT_URL_ALLOW_HOSTS)),
    prices: parsePrices(file.prices),
    blobs: parseBlobConfig(e),
    file,
    channelEnv,
    ...(configFile ? { configFile } : {}),
  };
}
