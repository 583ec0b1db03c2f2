/**
 * Mirroring of upstream result images (a channel's `mirror_results`, docs/operations.md "Stored images"): each
 * result URL is downloaded once and put in the BlobStore, and the task keeps the bridge's URL, so a client can
 * still fetch the image after the upstream's own URL has expired (fal's; Replicate deletes outputs after an hour).
 *
 * The download is a request to a URL an upstream chose, so it is guarded like a webhook: the URL must pass the
 * result-URL policy first; the socket only connects to public addresses, checked on the resolved address at
 * connect time (src/security/address-guard.ts; hosts on RESULT_URL_ALLOW_HOSTS excepted); redirects are not
 * followed; the body is bounded (`maxBytes`) and the whole download has a time limit. The stored type is the
 * image's own (recognized by its first bytes, else the declared content type), and only raster types the
 * BlobStore serves are stored. Never throws for one image: a failed download is reported and the caller keeps
 * the upstream's URL for it.
 */
import type { UpstreamUrlImage } from '../adapter-kit/contract';
import { sniffImageType } from '../intent/references';
import type { ResolveAll } from '../security/address-guard';
import { GuardedGet } from '../security/guarded-get';
import type { ResultUrlCheck } from '../security/result-url-policy';
import type { BlobStore } from './blob-store';
import type { BlobUrls } from './blob-urls';

/** Options of the mirror. */
export interface ResultMirrorOptions {
  /** Largest image downloaded, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Longest one download may take, connect to last byte, in ms (default 60 s). */
  readonly timeoutMs?: number;
  /**
   * Hosts whose images may be fetched although they are (or resolve to) private, loopback or link-local
   * addresses: RESULT_URL_ALLOW_HOSTS, for an operator's internal upstream. Tests add their loopback server here;
   * no environment default ever relaxes the guard.
   */
  readonly allowHosts?: readonly string[];
  /** The resolver behind the guard (default dns.lookup; tests map names to loopback). */
  readonly resolveAll?: ResolveAll;
}

/** Defaults of ResultMirrorOptions. */
export const DEFAULT_RESULT_MIRROR_OPTIONS = { maxBytes: 64 * 1024 * 1024, timeoutMs: 60_000 } as const;

/** What mirroring a task's images did. */
export interface MirrorOutcome {
  /** The images in the same order: mirrored ones with the bridge's URL, the others unchanged. */
  readonly images: UpstreamUrlImage[];
  /** The bridge's URLs among them (the result-URL policy is for upstreams' URLs, not these). */
  readonly storedUrls: string[];
  /** The images that could not be mirrored and keep the upstream's URL, with why (no URL query quoted). */
  readonly failures: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
}

/** Copies upstream result images into the BlobStore. */
export interface ResultMirror {
  /** Longest `mirror` of `count` images may take, in ms (for a claim that outlives it). */
  budgetMs(count: number): number;
  /** Mirrors each image whose URL `check` passes; never rejects for one image's failure. */
  mirror(images: readonly UpstreamUrlImage[], check: ResultUrlCheck): Promise<MirrorOutcome>;
  /** Closes idle sockets. */
  close(): void;
}

/** The built-in mirror: node's http(s) client over guarded agents, into a BlobStore. */
export class HttpResultMirror implements ResultMirror {
  private readonly getter: GuardedGet;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: BlobStore,
    private readonly urls: BlobUrls,
    options: ResultMirrorOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RESULT_MIRROR_OPTIONS.timeoutMs;
    this.getter = new GuardedGet({
      guard: true,
      allowHosts: options.allowHosts ?? [],
      refusedBecause: 'result images are only mirrored from public addresses',
      maxBytes: options.maxBytes ?? DEFAULT_RESULT_MIRROR_OPTIONS.maxBytes,
      timeoutMs: this.timeoutMs,
      userAgent: 'image-task-bridge-mirror/1',
      ...(options.resolveAll ? { resolveAll: options.resolveAll } : {}),
    });
  }

  budgetMs(count: number): number {
    return Math.max(1, count) * this.timeoutMs + 30_000;
  }

  async mirror(images: readonly UpstreamUrlImage[], check: ResultUrlCheck): Promise<MirrorOutcome> {
    const out: UpstreamUrlImage[] = [];
    const storedUrls: string[] = [];
    const failures: Array<{ index: number; reason: string }> = [];
    for (const [index, image] of images.entries()) {
      // Only an upstream's absolute http(s) URL is fetched: a path is the bridge's own, a refused URL is never fetched
      // (the task's result-URL check refuses it again, with its own warning).
      if (!/^https?:\/\//i.test(image.url) || check(image.url) !== undefined) {
        out.push(image);
        continue;
      }
      try {
        const { bytes, contentType } = await this.getter.get(image.url);
        const type = sniffImageType(bytes) ?? contentType ?? image.contentType ?? 'application/octet-stream';
        const stored = await this.store.put(bytes, type);
        const url = this.urls.url(stored.key);
        storedUrls.push(url);
        out.push({ url, contentType: stored.mimeType, ...(image.width !== undefined ? { width: image.width } : {}), ...(image.height !== undefined ? { height: image.height } : {}) });
      } catch (err) {
        failures.push({ index, reason: err instanceof Error ? err.message : String(err) });
        out.push(image);
      }
    }
    return { images: out, storedUrls, failures };
  }

  close(): void {
    this.getter.close();
  }
}
