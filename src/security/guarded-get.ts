/**
 * One GET of an image at a URL someone else chose (a client's reference image, an upstream's result image),
 * fetched from inside the operator's network, and so held to the rules of webhook delivery (docs/reliability.md):
 * - only http(s);
 * - with the guard on, the socket connects only to public addresses: an IP literal is refused before any request,
 *   a name is checked on the address it resolves to, at connect time (./address-guard.ts), hosts on the
 *   allow-list excepted; no keep-alive, so every fetch resolves and is checked afresh;
 * - no redirect is followed (a redirect could point anywhere): only 200 is an answer;
 * - at most `maxBytes` are read (by the declared Content-Length, then as the bytes arrive);
 * - the whole fetch, connect to last byte, has a time limit.
 * Failures are GuardedGetError with a message that names the origin only (a URL's path and query may carry
 * secrets). The reference fetcher (src/tasks/reference-bytes.ts) and the result mirror (src/blobs/result-mirror.ts)
 * are its two users.
 */
import http from 'node:http';
import https from 'node:https';
import { ADDRESS_REFUSED_CODE, guardedLookup, literalRefusal, normalizeAllowHosts, type ResolveAll } from './address-guard';

/** Options of a GuardedGet. */
export interface GuardedGetOptions {
  /** True: connect to public addresses only (hosts on allowHosts excepted). */
  readonly guard: boolean;
  /** Hosts that may be private addresses although the guard is on. */
  readonly allowHosts?: readonly string[];
  /** The end of a refusal message, e.g. "reference images are only fetched from public addresses". */
  readonly refusedBecause: string;
  /** Most bytes one answer may have. */
  readonly maxBytes: number;
  /** Longest one fetch may take, connect to last byte, in ms. */
  readonly timeoutMs: number;
  /** The User-Agent sent. */
  readonly userAgent: string;
  /** The resolver behind the guard (default dns.lookup; tests map names to loopback). */
  readonly resolveAll?: ResolveAll;
}

/** A fetch that failed; the message says why and names the origin only. */
export class GuardedGetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardedGetError';
  }
}

/** What a fetch got: the bytes, and the declared Content-Type when there was one. */
export interface GuardedAnswer {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
}

/** GETs images under the rules above, over its own agents. */
export class GuardedGet {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly allowHosts: readonly string[];

  constructor(private readonly options: GuardedGetOptions) {
    this.allowHosts = normalizeAllowHosts(options.allowHosts ?? []);
    const lookup = options.guard ? guardedLookup(this.allowHosts, options.resolveAll, options.refusedBecause) : undefined;
    this.httpAgent = new http.Agent({ keepAlive: false, ...(lookup ? { lookup } : {}) });
    this.httpsAgent = new https.Agent({ keepAlive: false, ...(lookup ? { lookup } : {}) });
  }

  /** The answer at `url` (200, at most maxBytes, within timeoutMs); rejects with GuardedGetError. */
  get(url: string): Promise<GuardedAnswer> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new GuardedGetError('the URL cannot be parsed'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(new GuardedGetError(`scheme ${target.protocol} is not http or https`));
    const refused = this.options.guard ? literalRefusal(target.hostname, this.allowHosts) : undefined;
    if (refused) return Promise.reject(new GuardedGetError(`${refused}; ${this.options.refusedBecause}`));
    const { maxBytes, timeoutMs, userAgent } = this.options;
    const where = `${target.protocol}//${target.host}`;
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(new GuardedGetError(message));
      };
      const request = (secure ? https : http).get(target, { agent: secure ? this.httpsAgent : this.httpAgent, headers: { accept: 'image/*', 'user-agent': userAgent } }, (response) => {
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          response.resume();
          fail(`${where} answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`);
          return;
        }
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          fail(`the image from ${where} is ${declared} bytes; the limit is ${maxBytes} bytes`);
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) fail(`the image from ${where} is over the limit of ${maxBytes} bytes`);
          else chunks.push(chunk);
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const type = response.headers['content-type'];
          resolve({ bytes: Buffer.concat(chunks), contentType: typeof type === 'string' ? type : undefined });
        });
        response.on('error', () => fail(`the image from ${where} broke off`));
        response.on('aborted', () => fail(`the image from ${where} broke off`));
      });
      const timer = setTimeout(() => fail(`no complete image from ${where} within ${timeoutMs} ms`), timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => fail(err.code === ADDRESS_REFUSED_CODE ? err.message : `${where} cannot be reached (${err.code ?? err.message})`));
    });
  }

  /** Closes the agents' sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
