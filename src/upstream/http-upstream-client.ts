/**
 * HttpUpstreamClient: the one place that sends adapter-built requests to upstreams over HTTP. It puts the
 * pieces together: the transport (per-channel pools, timeouts, size limits: upstream-transport.ts), the
 * classification of answers into UpstreamError with secrets removed (upstream-classify.ts), and the retry
 * policy (upstream-retry.ts).
 */
import { performance } from 'node:perf_hooks';
import { withDefaults } from '../util/with-defaults';
import { inject, injectable } from 'tsyringe';
import type { Channel } from '../routing/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter-kit/contract';
import { CLOCK, LOGGER, METRICS, RANDOM, UPSTREAM_CLIENT_OPTIONS } from '../di/tokens';
import { ConfigError, isUpstreamError, UpstreamError, ValidationError } from '../platform/errors';
import type { Clock, Logger, Metrics, Random } from '../core/ports';
import { cryptoRandom, silentLogger, systemClock } from '../core/system';
import { classifyUpstreamAnswer } from './upstream-classify';
import { realSleep, retryDelay, type Sleeper, type UpstreamRetryPolicy } from './upstream-retry';
import { buildMultipartBody } from './multipart-body';
import { UpstreamTransport } from './upstream-transport';
import type { UpstreamCallContext, UpstreamClient, UpstreamOperation } from './upstream-client';
import { FairSlots } from './fair-slots';

export { parseRetryAfter, type Sleeper, type UpstreamRetryPolicy } from './upstream-retry';

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

@injectable()
export class HttpUpstreamClient implements UpstreamClient {
  private readonly transport: UpstreamTransport;
  /** Socket slots per channel id, shared round robin between owners (fair-slots.ts). */
  private readonly channelSlots = new Map<string, FairSlots>();
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
    this.random = random ?? cryptoRandom;
    this.logger = logger ?? silentLogger;
    this.metrics = metrics;
    const o = options ?? {};
    const d = DEFAULT_UPSTREAM_CLIENT_OPTIONS;
    this.sleep = o.sleep ?? realSleep;
    this.retry = { ...d.retry, ...o.retry };
    const { retry: _retry, ...defaults } = d;
    this.opts = withDefaults<Required<Omit<UpstreamClientOptions, 'retry' | 'sleep'>>>(defaults, o);
    if (this.retry.maxAttempts < 1) throw new ConfigError(`Upstream retry maxAttempts must be at least 1 (got ${this.retry.maxAttempts}).`);
    this.transport = new UpstreamTransport(this.opts);
  }

  async send(channel: Channel, adapter: ImageAdapter, request: UpstreamRequest, operation: UpstreamOperation, context: UpstreamCallContext = {}): Promise<UpstreamResponse> {
    const url = this.transport.resolveUrl(channel, request.path);
    const { data, contentType } = this.encodeBody(request);
    if (data !== undefined && Buffer.byteLength(data) > this.opts.maxRequestBytes) {
      throw new ValidationError(
        'payload_too_large',
        `The request to upstream ${channel.id} would be ${Buffer.byteLength(data)} bytes; at most ${this.opts.maxRequestBytes} bytes are sent. Send fewer or smaller reference images.`,
      );
    }
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.opts.userAgent,
      ...(contentType !== undefined ? { 'Content-Type': contentType } : {}),
      ...requestHeaders(channel.id, request.headers),
      ...adapter.authHeaders(channel.apiKey),
    };
    const defaultTimeoutMs = operation === 'submit' ? this.opts.submitTimeoutMs : this.opts.pollTimeoutMs;
    const timeoutMs = Math.min(request.timeoutMs ?? defaultTimeoutMs, MAX_CALL_TIMEOUT_MS);
    const maxResponseBytes = Math.min(request.maxResponseBytes ?? this.opts.maxResponseBytes, MAX_RESPONSE_BYTES);
    // Header values derived from the key (e.g. Basic base64) are secrets too; ones that merely contain it are covered by the key.
    const secrets = [channel.apiKey, ...Object.values(adapter.authHeaders(channel.apiKey)).filter((v) => !v.includes(channel.apiKey))];

    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        // The timeout runs from when the request has a socket slot: waiting for one is not upstream time.
        const release = await this.slots(channel).acquire(context.owner ?? '', timeoutMs, () => noSlotError(channel, this.opts.maxSocketsPerChannel, timeoutMs));
        let answer;
        try {
          answer = await this.transport.exchange(channel, request.method, url, data, headers, timeoutMs, maxResponseBytes);
        } finally {
          release();
        }
        const response = classifyUpstreamAnswer({ channelId: channel.id, adapter, request, secrets, nowMs: this.clock.now() }, answer);
        this.metrics?.upstreamCall(channel.id, operation, 'ok', (performance.now() - started) / 1000);
        return response;
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        this.metrics?.upstreamCall(channel.id, operation, err.kind, (performance.now() - started) / 1000);
        const delayMs = retryDelay(this.retry, err, operation, attempt, () => this.random.float());
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

  private slots(channel: Channel): FairSlots {
    let slots = this.channelSlots.get(channel.id);
    if (!slots) {
      slots = new FairSlots(this.opts.maxSocketsPerChannel);
      this.channelSlots.set(channel.id, slots);
    }
    return slots;
  }

  async close(): Promise<void> {
    this.transport.close();
  }

  /** The request body on the wire: JSON, or multipart/form-data for `form`. */
  private encodeBody(request: UpstreamRequest): { data: string | Buffer | undefined; contentType: string | undefined } {
    if (request.form !== undefined) {
      const multipart = buildMultipartBody(request.form, this.random.bytes(16));
      return { data: multipart.body, contentType: multipart.contentType };
    }
    if (request.body === undefined) return { data: undefined, contentType: undefined };
    return { data: JSON.stringify(request.body), contentType: 'application/json' };
  }
}

/** Longest a single upstream call may be given (`UpstreamRequest.timeoutMs` is capped here): 10 minutes. */
export const MAX_CALL_TIMEOUT_MS = 10 * 60 * 1000;
/** Largest answer a request may ask for (`UpstreamRequest.maxResponseBytes` is capped here): 128 MiB. */
export const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

/** Headers an adapter may not set: the transport and the auth own them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'content-type']);

/** An adapter's per-request headers, checked: a reserved name or a value with CR/LF is a bug in the adapter. */
function requestHeaders(channelId: string, headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  if (headers === undefined) return {};
  for (const [name, value] of Object.entries(headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase()) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value)) {
      throw new ConfigError(`upstream ${channelId}: the adapter set the header "${name.slice(0, 40)}", which adapters may not set.`);
    }
  }
  return { ...headers };
}

/** No socket of the channel came free in time: the request was never sent, so it may go elsewhere (neverLeft). */
function noSlotError(channel: Channel, sockets: number, waitedMs: number): UpstreamError {
  return new UpstreamError('connection_refused', `upstream ${channel.id}: none of its ${sockets} connections came free within ${waitedMs} ms; the request was not sent.`);
}
