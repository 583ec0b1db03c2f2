/**
 * The upstream transport: one keep-alive pool per channel (connect timeout, no proxy, no redirects, bounded
 * bodies), URL resolution that keeps the channel key on the channel's own origin, and the typing of network
 * failures into UpstreamError. The bytes go through the lean exchange (src/upstream/lean-http-adapter.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Channel } from '../routing/channels';
import { ConfigError, UpstreamError } from '../platform/errors';
import { leanHttpExchange, type LeanHttpResponse } from './lean-http-adapter';
import { redactSecrets } from './redact';
import type { RawUpstreamAnswer } from './upstream-classify';

/** Limits of the transport. */
export interface UpstreamTransportLimits {
  /** Time to establish a connection (TCP + TLS). */
  readonly connectTimeoutMs: number;
  /** Largest response body read. */
  readonly maxResponseBytes: number;
  /** Largest request body sent. */
  readonly maxRequestBytes: number;
  /** Most sockets per channel. */
  readonly maxSocketsPerChannel: number;
}

const CONNECT_TIMEOUT_CODE = 'EBRIDGECONNECTTIMEOUT';

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

/** `agent` with every new socket given `ms` to connect (and, for https, finish TLS). */
function withConnectTimeout<A extends http.Agent>(agent: A, ms: number, readyEvent: 'connect' | 'secureConnect'): A {
  const create = agent.createConnection.bind(agent) as (options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void) => Duplex | null | undefined;
  (agent as { createConnection: typeof create }).createConnection = (options, callback) => {
    const socket = create(options, callback);
    armConnectTimeout(socket, ms, readyEvent);
    return socket;
  };
  return agent;
}

interface ChannelPool {
  readonly origin: string;
  readonly base: string;
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
}

/** Sends bytes to a channel's origin and reads the answer; network failures become UpstreamError. */
export class UpstreamTransport {
  private readonly pools = new Map<string, ChannelPool>();

  constructor(private readonly limits: UpstreamTransportLimits) {}

  /**
   * The absolute URL of `path` on `channel` (creating the channel's pool on first use). A path that is a
   * full URL must stay on the channel's origin: the channel key is only sent there.
   */
  resolveUrl(channel: Channel, path: string): string {
    const pool = this.pool(channel);
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

  /** One attempt: sends and reads the whole answer within `timeoutMs` (connect, send, headers, body). */
  async exchange(
    channel: Channel,
    method: string,
    url: string,
    data: string | Buffer | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
    maxResponseBytes: number = this.limits.maxResponseBytes,
  ): Promise<RawUpstreamAnswer> {
    const pool = this.pool(channel);
    let response: LeanHttpResponse;
    try {
      response = await leanHttpExchange(pool, { method, url, headers, body: data, timeoutMs, maxResponseBytes });
    } catch (err) {
      throw this.transportError(channel, err, timeoutMs, maxResponseBytes);
    }
    return { status: response.status, headers: response.headers, body: response.body };
  }

  /** Closes every keep-alive socket. */
  close(): void {
    for (const pool of this.pools.values()) {
      pool.httpAgent.destroy();
      pool.httpsAgent.destroy();
    }
    this.pools.clear();
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
    // Every socket the channel may open stays open when idle (maxFreeSockets = maxSockets). With 16 kept, a burst
    // that had opened more closed the rest as they came free and connected anew on the next burst: under load
    // ~8% of the gateway's CPU went to connect and close (docs/benchmarks.md "Profile and changes"). Idle
    // sockets still close when the upstream ends them (its keep-alive timeout).
    const agentOptions = { keepAlive: true, maxSockets: this.limits.maxSocketsPerChannel, maxFreeSockets: this.limits.maxSocketsPerChannel, scheduling: 'lifo' as const };
    const httpAgent = withConnectTimeout(new http.Agent(agentOptions), this.limits.connectTimeoutMs, 'connect');
    const httpsAgent = withConnectTimeout(new https.Agent(agentOptions), this.limits.connectTimeoutMs, 'secureConnect');
    const pool: ChannelPool = { origin: base.origin, base: channel.baseUrl, httpAgent, httpsAgent };
    this.pools.set(channel.id, pool);
    return pool;
  }

  private transportError(channel: Channel, err: unknown, timeoutMs: number, maxResponseBytes: number): UpstreamError {
    const codes = errorCodes(err);
    const has = (...wanted: string[]): boolean => wanted.some((c) => codes.includes(c));
    const message = err instanceof Error ? err.message : String(err);
    if (has(CONNECT_TIMEOUT_CODE)) {
      return new UpstreamError('timeout', `upstream ${channel.id} did not accept a connection within ${this.limits.connectTimeoutMs} ms.`);
    }
    if (/maxContentLength/i.test(message)) {
      return new UpstreamError('too_large', `upstream ${channel.id} sent a response larger than ${maxResponseBytes} bytes; it was not read.`);
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
