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
import type { ImageIntent, ImageRef } from '../intent/intent';
import { sniffImageType } from '../intent/references';
import type { ResolveAll } from '../security/address-guard';
import { GuardedGet, GuardedGetError } from '../security/guarded-get';
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

/** The default fetcher: one guarded GET (src/security/guarded-get.ts), the bytes judged an image by themselves. */
export class HttpReferenceFetcher implements ReferenceFetcher {
  private readonly getter: GuardedGet;

  constructor(options: HttpReferenceFetcherOptions) {
    this.getter = new GuardedGet({
      guard: options.policy.mode === 'public',
      allowHosts: options.policy.allowHosts,
      refusedBecause: 'reference images are only fetched from public addresses',
      maxBytes: options.maxBytes,
      timeoutMs: options.timeoutMs ?? DEFAULT_REFERENCE_FETCH.timeoutMs,
      userAgent: DEFAULT_REFERENCE_FETCH.userAgent,
      ...(options.resolveAll ? { resolveAll: options.resolveAll } : {}),
    });
  }

  async fetch(url: string): Promise<{ readonly bytes: Buffer; readonly mimeType: string }> {
    const { bytes } = await this.getter.get(url).catch((err: unknown) => {
      throw new ReferenceFetchError(err instanceof GuardedGetError ? err.message : String(err));
    });
    const mimeType = sniffImageType(bytes);
    if (!mimeType) throw new ReferenceFetchError('the answer is not a PNG, JPEG, WebP or GIF image');
    return { bytes, mimeType };
  }

  close(): void {
    this.getter.close();
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
