/**
 * The upstream HTTP exchange over node:http(s), called directly by the transport (src/upstream/upstream-transport.ts).
 * It was an axios adapter behind an axios instance per channel; axios' request pipeline around it (config merge,
 * interceptor chain, header flattening, transforms) cost ~10% of the gateway's CPU per request and did nothing
 * the transport needs (docs/benchmarks.md "Profile and changes"). What axios did to the request is kept here:
 * header names and values normalized by AxiosHeaders (values trimmed, control characters dropped), and a POST,
 * PUT or PATCH without a Content-Type sent as application/x-www-form-urlencoded. Its stock http adapter had
 * already been replaced (follow-redirects, stream plumbing, per-request AbortController and zlib set-up cost
 * ~0.3-0.4 ms of CPU per request). This one sends the body, reads at most `maxResponseBytes`, and hands back a
 * Buffer. Redirects are never followed (the client classifies 3xx), there is no proxy, and `timeoutMs` bounds
 * the whole attempt.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { AxiosHeaders } from 'axios';

/** The agents of one channel. */
export interface LeanHttpAgents {
  /** Agent for http: URLs (keep-alive, connect timeout). */
  readonly httpAgent: http.Agent;
  /** Agent for https: URLs. */
  readonly httpsAgent: https.Agent;
}

/** One request. */
export interface LeanHttpRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer | undefined;
  /** Bounds the whole exchange (connect, send, headers, body); 0: none. */
  readonly timeoutMs: number;
  /** Largest response body read; a larger one fails with a "maxContentLength" error. */
  readonly maxResponseBytes: number;
}

/**
 * The answer: status, headers (node's: lower-case names) and the whole body. The headers were wrapped in AxiosHeaders,
 * as axios handed them on; their only readers look up lower-case names (Location, Retry-After), which node's object
 * answers the same, so the copy per answer was dropped (docs/benchmarks.md "Session 6").
 */
export interface LeanHttpResponse {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: Buffer;
}

/** Methods axios gave a default Content-Type. */
const FORM_DEFAULT_METHODS = new Set(['post', 'put', 'patch']);

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

/** Sends one request on the channel's agents and reads the whole answer. */
export function leanHttpExchange(agents: LeanHttpAgents, request: LeanHttpRequest): Promise<LeanHttpResponse> {
  return new Promise<LeanHttpResponse>((resolve, reject) => {
    const url = new URL(request.url);
    const isHttps = url.protocol === 'https:';
    const method = request.method.toLowerCase();
    const normalized = AxiosHeaders.from(request.headers as Record<string, string>);
    if (FORM_DEFAULT_METHODS.has(method)) normalized.setContentType('application/x-www-form-urlencoded', false);
    const headers = normalized.toJSON(true) as Record<string, string>;
    const body = request.body;
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const maxResponseBytes = request.maxResponseBytes;
    headers['Accept-Encoding'] = 'gzip, deflate, br';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };
    const req = (isHttps ? https : http).request(
      {
        agent: isHttps ? agents.httpsAgent : agents.httpAgent,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: method.toUpperCase(),
        headers,
      },
      (res) => {
        const decoder = decoderFor(res.headers['content-encoding']);
        const stream = decoder ? res.pipe(decoder) : res;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            const err = new Error(`maxContentLength size of ${maxResponseBytes} exceeded`);
            req.destroy();
            decoder?.destroy();
            fail(err);
            return;
          }
          chunks.push(chunk);
        });
        stream.on('error', (err: Error) => fail(err));
        res.on('aborted', () => fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) });
        });
      },
    );
    req.on('error', fail);
    // One timer bounds the whole exchange; no AbortController.
    if (request.timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = Object.assign(new Error(`timeout of ${request.timeoutMs} ms exceeded`), { code: 'ETIMEDOUT' });
        req.destroy(err);
        fail(err);
      }, request.timeoutMs);
    }
    if (body !== undefined) req.write(body);
    req.end();
  });
}
