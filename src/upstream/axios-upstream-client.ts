/**
 * AxiosUpstreamClient: the one place that sends adapter-built requests over HTTP. It owns the per-channel
 * connection pools, timeouts, size limits, retries, the typing of every failure into an UpstreamError,
 * and the removal of secrets from anything an upstream says.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { inject, injectable } from 'tsyringe';
import type { Channel } from '../adapter/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter/contract';
import { CLOCK, LOGGER, METRICS, RANDOM, UPSTREAM_CLIENT_OPTIONS } from '../di/tokens';
import { ConfigError, UpstreamError, ValidationError, type UpstreamFailureKind } from '../platform/errors';
import type { Clock, Logger, Metrics, Random } from '../tasks/ports';
import { createLeanHttpAdapter } from './lean-http-adapter';
import { redactSecrets } from './redact';
import type { UpstreamClient, UpstreamOperation } from './upstream-client';

/** Waits `ms` milliseconds (injected so tests never really wait). */
export type Sleeper = (ms: number) => Promise<void>;

/** Retry policy (full-jitter exponential backoff). */
export interface UpstreamRetryPolicy {
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Backoff base: attempt k waits a random time in [0, min(cap, base * 2^(k-1))). */
  readonly baseDelayMs: number;
  /** Backoff cap. */
  readonly maxDelayMs: number;
  /** Longest Retry-After honoured on a 429; a longer one ends the retries with rate_limited. */
  readonly maxRetryAfterMs: number;
}

/** Options of the client; every one has a default. */
export interface UpstreamClientOptions {
  /** Time to establish a connection (TCP + TLS), default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Total time of one submit attempt, default 30 s. */
  readonly submitTimeoutMs?: number;
  /** Total time of one poll attempt, default 15 s. */
  readonly pollTimeoutMs?: number;
  /** Largest response body accepted, default 5 MiB. */
  readonly maxResponseBytes?: number;
  /** Largest request body sent, default 64 MiB (submits carry data: URIs of uploads). */
  readonly maxRequestBytes?: number;
  /** Most sockets per channel, default 64. */
  readonly maxSocketsPerChannel?: number;
  /** Retry policy overrides. */
  readonly retry?: Partial<UpstreamRetryPolicy>;
  /** User-Agent header. */
  readonly userAgent?: string;
  /** Sleeper used between retries (default: a real timer). */
  readonly sleep?: Sleeper;
}

/** Defaults of UpstreamClientOptions. */
export const DEFAULT_UPSTREAM_CLIENT_OPTIONS = {
  connectTimeoutMs: 5_000,
  submitTimeoutMs: 30_000,
  pollTimeoutMs: 15_000,
  maxResponseBytes: 5 * 1024 * 1024,
  maxRequestBytes: 64 * 1024 * 1024,
  maxSocketsPerChannel: 64,
  retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 } satisfies UpstreamRetryPolicy,
  userAgent: 'image-task-bridge/0.1',
} as const;

/** Longest piece of upstream text quoted in an error message. */
const MAX_QUOTED_CHARS = 500;
/** Upstream text is cut to this before redaction (bounds the regex work on huge error pages). */
const MAX_SCANNED_CHARS = 64 * 1024;

const CONNECT_TIMEOUT_CODE = 'EBRIDGECONNECTTIMEOUT';

const realSleep: Sleeper = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const systemClock: Clock = { now: () => Date.now() };
const systemRandom: Random = { bytes: (n) => randomBytes(n), float: () => Math.random() };
const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };

/** Destroys a socket that has not connected (and finished TLS) within `ms`. */
function armConnectTimeout(socket: Duplex | null | undefined, ms: number, readyEvent: 'connect' | 'secureConnect'): void {
  if (!socket || ms <= 0 || !(socket as { connecting?: boolean }).connecting) return;
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`connect timeout after ${ms} ms`), { code: CONNECT_TIMEOUT_CODE });
    socket.destroy(err);
  }, ms);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  socket.once(readyEvent, clear);
  socket.once('error', clear);
  socket.once('close', clear);
}

class ConnectTimeoutHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs, 'connect');
    return socket;
  }
}

class ConnectTimeoutHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs, 'secureConnect');
    return socket;
  }
}

interface ChannelPool {
  readonly origin: string;
  readonly base: string;
  readonly instance: AxiosInstance;
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
}

/** Parses Retry-After (delta-seconds or an HTTP date) into seconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

@injectable()
export class AxiosUpstreamClient implements UpstreamClient {
  private readonly pools = new Map<string, ChannelPool>();
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly sleep: Sleeper;
  private readonly retry: UpstreamRetryPolicy;
  private readonly opts: Required<Omit<UpstreamClientOptions, 'retry' | 'sleep'>>;

  constructor(
    @inject(CLOCK, { isOptional: true }) clock?: Clock,
    @inject(RANDOM, { isOptional: true }) random?: Random,
    @inject(LOGGER, { isOptional: true }) logger?: Logger,
    @inject(METRICS, { isOptional: true }) metrics?: Metrics,
    @inject(UPSTREAM_CLIENT_OPTIONS, { isOptional: true }) options?: UpstreamClientOptions,
  ) {
    this.clock = clock ?? systemClock;
    this.random = random ?? systemRandom;
    this.logger = logger ?? silentLogger;
    this.metrics = metrics;
    const o = options ?? {};
    const d = DEFAULT_UPSTREAM_CLIENT_OPTIONS;
    this.sleep = o.sleep ?? realSleep;
    this.retry = { ...d.retry, ...o.retry };
    this.opts = {
      connectTimeoutMs: o.connectTimeoutMs ?? d.connectTimeoutMs,
      submitTimeoutMs: o.submitTimeoutMs ?? d.submitTimeoutMs,
      pollTimeoutMs: o.pollTimeoutMs ?? d.pollTimeoutMs,
      maxResponseBytes: o.maxResponseBytes ?? d.maxResponseBytes,
      maxRequestBytes: o.maxRequestBytes ?? d.maxRequestBytes,
      maxSocketsPerChannel: o.maxSocketsPerChannel ?? d.maxSocketsPerChannel,
      userAgent: o.userAgent ?? d.userAgent,
    };
    if (this.retry.maxAttempts < 1) throw new ConfigError(`Upstream retry maxAttempts must be at least 1 (got ${this.retry.maxAttempts}).`);
  }

  async send(channel: Channel, adapter: ImageAdapter, request: UpstreamRequest, operation: UpstreamOperation): Promise<UpstreamResponse> {
    const pool = this.pool(channel);
    const url = this.resolveUrl(channel, pool, request.path);
    const data = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (data !== undefined && Buffer.byteLength(data) > this.opts.maxRequestBytes) {
      throw new ValidationError(
        'payload_too_large',
        `The request to upstream ${channel.id} would be ${Buffer.byteLength(data)} bytes; at most ${this.opts.maxRequestBytes} bytes are sent. Send fewer or smaller reference images.`,
      );
    }
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.opts.userAgent,
      ...(data !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...adapter.authHeaders(channel.apiKey),
    };
    const timeoutMs = operation === 'submit' ? this.opts.submitTimeoutMs : this.opts.pollTimeoutMs;
    // Header values derived from the key (e.g. Basic base64) are secrets too; ones that merely contain it are covered by the key.
    const secrets = [channel.apiKey, ...Object.values(adapter.authHeaders(channel.apiKey)).filter((v) => !v.includes(channel.apiKey))];

    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const response = await this.attempt(pool, channel, adapter, request, url, data, headers, timeoutMs, secrets);
        this.metrics?.upstreamCall(channel.id, operation, 'ok', (performance.now() - started) / 1000);
        return response;
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        this.metrics?.upstreamCall(channel.id, operation, err.kind, (performance.now() - started) / 1000);
        const delayMs = this.retryDelay(err, operation, attempt);
        const fields = {
          channel: channel.id,
          operation,
          kind: err.kind,
          status: err.upstreamStatus,
          attempt,
          maxAttempts: this.retry.maxAttempts,
          ...(delayMs !== undefined ? { retryInMs: delayMs } : {}),
        };
        if (delayMs === undefined) {
          this.logger.warn(fields, err.message);
          throw err;
        }
        this.logger.debug(fields, err.message);
        await this.sleep(delayMs);
      }
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) {
      pool.httpAgent.destroy();
      pool.httpsAgent.destroy();
    }
    this.pools.clear();
  }

  /** Milliseconds to wait before the next attempt, or undefined to give up. */
  private retryDelay(err: UpstreamError, operation: UpstreamOperation, attempt: number): number | undefined {
    if (attempt >= this.retry.maxAttempts) return undefined;
    // A submit that may have reached the upstream is never re-sent: the job could run (and be paid) twice.
    const retryable = operation === 'submit' ? err.neverLeft : err.isRetryable;
    if (!retryable) return undefined;
    if (err.kind === 'rate_limited' && err.retryAfterSeconds !== undefined) {
      const ms = err.retryAfterSeconds * 1000;
      return ms <= this.retry.maxRetryAfterMs ? ms : undefined;
    }
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random.float() * ceiling);
  }

  /** The channel's pool, created once on first use. */
  private pool(channel: Channel): ChannelPool {
    const existing = this.pools.get(channel.id);
    if (existing && existing.base === channel.baseUrl) return existing;
    if (existing) {
      // The channel was reconfigured under the same id: its old sockets point at the old origin.
      existing.httpAgent.destroy();
      existing.httpsAgent.destroy();
    }
    let base: URL;
    try {
      base = new URL(channel.baseUrl);
    } catch {
      throw new ConfigError(`Channel ${channel.id} has a base URL that is not a valid URL.`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ConfigError(`Channel ${channel.id} has a base URL with protocol ${base.protocol}; only http: and https: are supported.`);
    }
    const agentOptions = { keepAlive: true, maxSockets: this.opts.maxSocketsPerChannel, maxFreeSockets: 16, scheduling: 'lifo' as const };
    const httpAgent = new ConnectTimeoutHttpAgent(agentOptions, this.opts.connectTimeoutMs);
    const httpsAgent = new ConnectTimeoutHttpsAgent(agentOptions, this.opts.connectTimeoutMs);
    const instance = axios.create({
      httpAgent,
      httpsAgent,
      // Keys go to the channel's origin only, never through an environment-configured proxy.
      proxy: false,
      maxRedirects: 0,
      maxContentLength: this.opts.maxResponseBytes,
      maxBodyLength: this.opts.maxRequestBytes,
      validateStatus: () => true,
      responseType: 'arraybuffer',
      // The body is already a JSON string and the response stays a Buffer: no transforms on the hot path.
      transformRequest: [(body: unknown) => body],
      transformResponse: [(body: unknown) => body],
      adapter: createLeanHttpAdapter({ httpAgent, httpsAgent, maxResponseBytes: this.opts.maxResponseBytes }),
    });
    trimAxiosDefaults(instance);
    const pool: ChannelPool = { origin: base.origin, base: channel.baseUrl, instance, httpAgent, httpsAgent };
    this.pools.set(channel.id, pool);
    return pool;
  }

  private resolveUrl(channel: Channel, pool: ChannelPool, path: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) {
      let target: URL;
      try {
        target = new URL(path, pool.base);
      } catch {
        throw new UpstreamError('malformed', `upstream ${channel.id}: a request URL is not valid; it was not sent.`);
      }
      if (target.origin !== pool.origin) {
        const where = target.protocol === 'http:' || target.protocol === 'https:' ? target.origin : target.protocol;
        throw new UpstreamError(
          'malformed',
          `upstream ${channel.id}: refused to send a request to ${redactSecrets(where)}, which is not the channel's origin ${pool.origin}; the channel key is only sent to its own origin.`,
        );
      }
      return target.toString();
    }
    return `${pool.base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  }

  private async attempt(
    pool: ChannelPool,
    channel: Channel,
    adapter: ImageAdapter,
    request: UpstreamRequest,
    url: string,
    data: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    secrets: readonly string[],
  ): Promise<UpstreamResponse> {
    let response: AxiosResponse<Buffer>;
    try {
      // The lean adapter bounds the whole attempt (connect, send, headers, body) by `timeout`.
      response = await pool.instance.request<Buffer>({ method: request.method, url, data, headers, timeout: timeoutMs });
    } catch (err) {
      throw this.transportError(channel, err, timeoutMs);
    }
    return this.classifyResponse(channel, adapter, request, response, secrets);
  }

  private transportError(channel: Channel, err: unknown, timeoutMs: number): UpstreamError {
    const codes = errorCodes(err);
    const has = (...wanted: string[]): boolean => wanted.some((c) => codes.includes(c));
    const message = err instanceof Error ? err.message : String(err);
    if (has(CONNECT_TIMEOUT_CODE)) {
      return new UpstreamError('timeout', `upstream ${channel.id} did not accept a connection within ${this.opts.connectTimeoutMs} ms.`);
    }
    if (/maxContentLength/i.test(message)) {
      return new UpstreamError('too_large', `upstream ${channel.id} sent a response larger than ${this.opts.maxResponseBytes} bytes; it was not read.`);
    }
    if (has('ECONNABORTED', 'ETIMEDOUT') || /timeout/i.test(message)) {
      return new UpstreamError('timeout', `upstream ${channel.id} did not answer within ${timeoutMs} ms.`);
    }
    if (has('ECONNREFUSED')) {
      return new UpstreamError('connection_refused', `upstream ${channel.id} refused the connection; the request was not sent.`);
    }
    const code = codes.find((c) => /^E[A-Z_]+$/.test(c) && c !== 'ERR_BAD_RESPONSE');
    const what = code ?? (/socket hang up/i.test(message) ? 'socket hang up' : 'connection failed');
    return new UpstreamError('network', `upstream ${channel.id}: the connection failed (${what}).`);
  }

  private classifyResponse(
    channel: Channel,
    adapter: ImageAdapter,
    request: UpstreamRequest,
    response: AxiosResponse<Buffer>,
    secrets: readonly string[],
  ): UpstreamResponse {
    const status = response.status;
    const raw = Buffer.isBuffer(response.data) ? response.data.toString('utf8') : typeof response.data === 'string' ? response.data : '';
    const text = raw.trim();
    const quote = (s: string): string => truncate(redactSecrets(s.slice(0, MAX_SCANNED_CHARS), secrets));
    const accepted = (status >= 200 && status < 300) || (request.acceptStatuses ?? []).includes(status);

    if (accepted) {
      if (text === '') {
        if (status === 204 || status === 205 || !(status >= 200 && status < 300)) return { status, body: undefined };
        throw new UpstreamError('malformed', `upstream ${channel.id} answered HTTP ${status} with an empty body; a JSON body was expected.`, status);
      }
      try {
        return { status, body: JSON.parse(text) as unknown };
      } catch {
        throw new UpstreamError('malformed', `upstream ${channel.id} answered HTTP ${status} with a body that is not JSON: "${quote(text)}".`, status);
      }
    }

    let json: unknown;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = undefined;
    }
    const described = json !== undefined ? safeDescribe(adapter, json) : undefined;
    const detail = described ?? (text === '' ? undefined : text);
    // "<what happened>: <upstream's words>." or "<what happened>." — always one well-formed sentence.
    const said = (what: string): string => (detail ? `${what}: ${endSentence(quote(detail))}` : `${what}.`);

    if (status >= 300 && status < 400) {
      const location = response.headers['location'];
      const to = typeof location === 'string' ? ` to ${quote(stripQuery(location))}` : '';
      return fail('redirect', `upstream ${channel.id} answered HTTP ${status} (a redirect${to}); redirects are not followed.`);
    }
    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers['retry-after'], this.clock.now());
      const wait = retryAfter !== undefined ? ` It asked to wait ${retryAfter} s.` : '';
      return fail('rate_limited', `${said(`upstream ${channel.id} is rate limiting requests (HTTP 429)`)}${wait}`, retryAfter);
    }
    if (status === 401 || status === 403) {
      return fail('auth', `${said(`upstream ${channel.id} refused the channel's credentials (HTTP ${status})`)} Check the API key configured for channel ${channel.id}.`);
    }
    if (status === 404) {
      return fail('not_found', said(`upstream ${channel.id} answered HTTP 404 for ${request.method} ${quote(stripQuery(request.path))}`));
    }
    if (status >= 400 && status < 500) {
      return fail('rejected', said(`upstream ${channel.id} rejected the request (HTTP ${status})`));
    }
    return fail('server_error', said(`upstream ${channel.id} failed with HTTP ${status}`));

    function fail(kind: UpstreamFailureKind, message: string, retryAfterSeconds?: number): never {
      throw new UpstreamError(kind, message, status, retryAfterSeconds);
    }
  }
}

/**
 * axios merges the instance defaults into every request config; its stock defaults (per-method header
 * tables, xsrf and transitional settings the lean adapter never reads) doubled that cost. Keep only what
 * this client sets.
 */
function trimAxiosDefaults(instance: AxiosInstance): void {
  const defaults = instance.defaults as unknown as Record<string, unknown>;
  defaults.headers = {};
  for (const key of ['xsrfCookieName', 'xsrfHeaderName', 'transitional', 'env', 'maxBodyLength']) delete defaults[key];
}

function safeDescribe(adapter: ImageAdapter, body: unknown): string | undefined {
  try {
    const text = adapter.describeError?.(body);
    return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
  } catch {
    return undefined;
  }
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS)}…` : oneLine;
}

function endSentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function stripQuery(pathOrUrl: string): string {
  return pathOrUrl.replace(/[?#].*$/, '');
}

/** Every error code found on an error, its cause, and the members of an AggregateError (happy eyeballs). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 3) return [];
  const out: string[] = [];
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.push(code);
  out.push(...errorCodes((err as { cause?: unknown }).cause, depth + 1));
  const members = (err as { errors?: unknown }).errors;
  if (Array.isArray(members)) for (const m of members) out.push(...errorCodes(m, depth + 1));
  return out;
}

function isUpstreamError(err: unknown): err is UpstreamError {
  return typeof err === 'object' && err !== null && typeof (err as { kind?: unknown }).kind === 'string' && (err as { name?: unknown }).name === 'UpstreamError';
}
