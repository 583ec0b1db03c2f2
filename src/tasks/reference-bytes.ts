/**
 * Reference images as bytes, for upstreams that take them as file uploads (an adapter with `referenceBytes`,
 * e.g. OpenAI's multipart image edits): the task engine fetches every http(s) reference into a `data:` URI
 * before the adapter builds its request, so adapters stay pure. Only the engine fetches (synchronous runs),
 * never the client's POST.
 *
 * A reference URL is a URL a client chose, fetched from inside the operator's network, so every fetch is held
 * to the rules of webhook delivery:
 * - the URL's text passed the reference URL policy at submit (src/security/url-policy.ts); the address the
 *   socket connects to is checked again here (src/security/address-guard.ts: a public name that resolves to a
 *   private address, or re-resolves to one, is refused). With REFERENCE_URL_POLICY `public` (the default) the
 *   guard is on, hosts on REFERENCE_URL_ALLOW_HOSTS excepted; with `any` or `allowlist` the operator has chosen
 *   which hosts may be fetched, and the guard is off;
 * - no redirect is followed (a 3xx fails the fetch: a redirect could point anywhere);
 * - at most the per-image limit (UPLOAD_LIMIT_BYTES, the limit of an uploaded reference) is read;
 * - the whole fetch has a time limit (20 s);
 * - the bytes must be a PNG, JPEG, WebP or GIF image (judged by the bytes, not the Content-Type).
 * A failed fetch fails the task with `reference_unavailable`, naming the reference (its URL without the query).
 */
import http from 'node:http';
import https from 'node:https';
import type { ImageIntent, ImageRef } from '../intent/intent';
import { sniffImageType } from '../intent/references';
import { ADDRESS_REFUSED_CODE, guardedLookup, literalRefusal, type ResolveAll } from '../security/address-guard';
import { DEFAULT_REFERENCE_URL_POLICY, type ReferenceUrlPolicyOptions } from '../security/url-policy';
import { redactUrlQuery } from '../util/url-text';

/** Fetches one reference image. */
export interface ReferenceFetcher {
  /** The image at `url` as bytes and their media type; throws ReferenceFetchError when it cannot. */
  fetch(url: string): Promise<{ readonly bytes: Buffer; readonly mimeType: string }>;
  /** Closes idle sockets. */
  close(): void;
}

/** A reference that could not be fetched: `message` says why, without the URL. */
export class ReferenceFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceFetchError';
  }
}

/** Options of HttpReferenceFetcher. */
export interface HttpReferenceFetcherOptions {
  /** The reference URL policy (REFERENCE_URL_POLICY, REFERENCE_URL_ALLOW_HOSTS): decides whether the address guard is on. */
  readonly policy: ReferenceUrlPolicyOptions;
  /** Most bytes one image may have (UPLOAD_LIMIT_BYTES). */
  readonly maxBytes: number;
  /** Longest one fetch may take, connect to last byte (default 20 s). */
  readonly timeoutMs?: number;
  /** The resolver behind the guard (default dns.lookup; tests map names to loopback). */
  readonly resolveAll?: ResolveAll;
}

/** Defaults of HttpReferenceFetcherOptions. */
export const DEFAULT_REFERENCE_FETCH = { timeoutMs: 20_000, maxBytes: 10 * 1024 * 1024, userAgent: 'image-task-bridge-references/1' } as const;

const REFUSED_BECAUSE = 'reference images are only fetched from public addresses';

/** The default fetcher: GET over agents that check the address they connect to. */
export class HttpReferenceFetcher implements ReferenceFetcher {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly guarded: boolean;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpReferenceFetcherOptions) {
    this.guarded = options.policy.mode === 'public';
    const lookup = this.guarded ? guardedLookup(options.policy.allowHosts, options.resolveAll, REFUSED_BECAUSE) : undefined;
    // No keep-alive: every fetch connects (and so resolves and is checked) afresh.
    this.httpAgent = new http.Agent({ keepAlive: false, ...(lookup ? { lookup } : {}) });
    this.httpsAgent = new https.Agent({ keepAlive: false, ...(lookup ? { lookup } : {}) });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REFERENCE_FETCH.timeoutMs;
  }

  fetch(url: string): Promise<{ readonly bytes: Buffer; readonly mimeType: string }> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new ReferenceFetchError('the URL cannot be parsed'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(new ReferenceFetchError(`scheme ${target.protocol} is not http or https`));
    const refused = this.guarded ? literalRefusal(target.hostname, this.options.policy.allowHosts) : undefined;
    if (refused) return Promise.reject(new ReferenceFetchError(`${refused}; ${REFUSED_BECAUSE}`));
    const maxBytes = this.options.maxBytes;
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(new ReferenceFetchError(message));
      };
      const request = (secure ? https : http).get(
        target,
        { agent: secure ? this.httpsAgent : this.httpAgent, headers: { accept: 'image/*', 'user-agent': DEFAULT_REFERENCE_FETCH.userAgent } },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 300 && status < 400) return fail(`HTTP ${status}: redirects are not followed`);
          if (status < 200 || status >= 300) return fail(`HTTP ${status}`);
          const declared = Number(response.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) return fail(`the image is ${declared} bytes; the limit for one image is ${maxBytes} bytes`);
          const chunks: Buffer[] = [];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > maxBytes) fail(`the image is larger than the limit for one image, ${maxBytes} bytes`);
            else chunks.push(chunk);
          });
          response.on('error', () => fail('the answer broke off'));
          response.on('end', () => {
            if (settled) return;
            const bytes = Buffer.concat(chunks);
            const mimeType = sniffImageType(bytes);
            if (!mimeType) return fail('the answer is not a PNG, JPEG, WebP or GIF image');
            settled = true;
            clearTimeout(timer);
            resolve({ bytes, mimeType });
          });
          return undefined;
        },
      );
      const timer = setTimeout(() => fail(`no complete answer within ${this.timeoutMs} ms`), this.timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === ADDRESS_REFUSED_CODE) fail(err.message);
        else fail(`the host cannot be reached (${err.code ?? err.message})`);
      });
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** A fetcher with the defaults (public hosts only, 10 MiB, 20 s), for containers that register none. */
export function defaultReferenceFetcher(): ReferenceFetcher {
  return new HttpReferenceFetcher({ policy: DEFAULT_REFERENCE_URL_POLICY, maxBytes: DEFAULT_REFERENCE_FETCH.maxBytes });
}

/** True for a reference the engine must fetch (an http(s) URL; data: URIs and stored blobs are bytes already). */
function isUrlReference(ref: ImageRef): boolean {
  return /^https?:/i.test(ref.url);
}

/** True when the intent has a reference that must be fetched before an adapter taking bytes builds. */
export function needsReferenceBytes(intent: ImageIntent): boolean {
  return intent.references.some(isUrlReference);
}

/**
 * The intent with every http(s) reference fetched into a `data:` URI (fetched at once, in order kept). Throws
 * ReferenceFetchError naming the first reference that failed (1-based, and its URL without the query).
 */
export async function fetchReferenceBytes(intent: ImageIntent, fetcher: ReferenceFetcher): Promise<ImageIntent> {
  const references = await Promise.all(
    intent.references.map(async (ref, index): Promise<ImageRef> => {
      if (!isUrlReference(ref)) return ref;
      try {
        const { bytes, mimeType } = await fetcher.fetch(ref.url);
        return { ...ref, url: `data:${mimeType};base64,${bytes.toString('base64')}` };
      } catch (err) {
        const why = err instanceof ReferenceFetchError ? err.message : 'it could not be fetched';
        // The URL last, after a space: the task's error text goes through redactSecrets, which cuts a query up to the next space.
        throw new ReferenceFetchError(`Reference image ${index + 1} could not be fetched for the upstream, which takes the images themselves (${why}): ${redactUrlQuery(ref.url)}`);
      }
    }),
  );
  return { ...intent, references };
}
