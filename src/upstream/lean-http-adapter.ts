/**
 * A lean axios adapter over node:http(s). axios stays the client API (config merging, headers, the
 * instance per channel), but its stock http adapter costs ~0.3-0.4 ms of CPU per request on this
 * hardware (follow-redirects wrapping, stream plumbing, per-request AbortController and zlib set-up);
 * this one sends the body, reads at most `maxResponseBytes`, and hands back a Buffer. Redirects are
 * never followed (the client classifies 3xx), there is no proxy, and `timeout` bounds the whole
 * attempt. Measured with `npm run bench` (see docs/benchmarks.md).
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { AxiosHeaders, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

/** Options of the lean adapter. */
export interface LeanHttpAdapterOptions {
  /** Agent for http: URLs (keep-alive, connect timeout). */
  readonly httpAgent: http.Agent;
  /** Agent for https: URLs. */
  readonly httpsAgent: https.Agent;
  /** Largest response body read; a larger one fails with a "maxContentLength" error. */
  readonly maxResponseBytes: number;
}

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

/** Builds the adapter for one channel's agents. */
export function createLeanHttpAdapter(options: LeanHttpAdapterOptions): AxiosAdapter {
  return (config: InternalAxiosRequestConfig) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      const url = new URL(config.url ?? '', config.baseURL);
      const isHttps = url.protocol === 'https:';
      const headers = AxiosHeaders.from(config.headers).toJSON(true) as Record<string, string>;
      const body = typeof config.data === 'string' || Buffer.isBuffer(config.data) ? (config.data as string | Buffer) : undefined;
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
      // A request may ask for a larger answer than the pool's default (a synchronous call answering base64 images).
      const maxResponseBytes = typeof config.maxContentLength === 'number' && config.maxContentLength > 0 ? config.maxContentLength : options.maxResponseBytes;
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
          agent: isHttps ? options.httpsAgent : options.httpAgent,
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: (config.method ?? 'get').toUpperCase(),
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
            resolve({ data: Buffer.concat(chunks, size), status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers as AxiosResponse['headers'], config, request: req });
          });
        },
      );
      req.on('error', fail);
      // `timeout` bounds the whole exchange (axios' own is an idle timer); one timer, no AbortController.
      if (config.timeout && config.timeout > 0) {
        timer = setTimeout(() => {
          const err = Object.assign(new Error(`timeout of ${config.timeout} ms exceeded`), { code: 'ETIMEDOUT' });
          req.destroy(err);
          fail(err);
        }, config.timeout);
      }
      if (body !== undefined) req.write(body);
      req.end();
    });
}
