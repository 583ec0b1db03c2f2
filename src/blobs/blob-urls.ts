/**
 * The URLs that serve stored blobs: `{base}/v1/images/blobs/{key}`, and with a secret configured
 * (`BLOB_URL_SECRET`) `?exp=<unix seconds>&sig=<HMAC-SHA256(secret, "v1:{key}:{exp}"), base64url>`: such a URL
 * works until `exp` and a URL without a valid signature is refused. Without a secret the key alone (192 random
 * bits) is the capability.
 *
 * The URL is minted when the blob is stored and kept in the task record, so a signed result URL lives
 * `BLOB_URL_TTL_MS` from the moment the task finished (default 7 days, the task record's own retention).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Path of the blob route under the bridge's prefix. */
export const BLOB_ROUTE_PATH = '/v1/images/blobs';

/** Options of BlobUrls. */
export interface BlobUrlOptions {
  /**
   * Absolute URL clients reach the bridge at, mount path included (`PUBLIC_BASE_URL`), or a function answering
   * it (the standalone gateway's listen URL, known after listen). Undefined: URLs are path-only (`/v1/...`).
   */
  readonly baseUrl?: string | (() => string | undefined);
  /** Signing secret; URLs are signed and expire when set. */
  readonly secret?: string;
  /** Lifetime of a signed URL, in ms. */
  readonly ttlMs: number;
  /** Time source (the Clock port). */
  readonly clock: { now(): number };
}

/** What `verify` decided about a request for a blob. */
export type BlobUrlVerdict =
  /** Serve it (signed and in time, or signing is off). */
  | { readonly ok: true; readonly expiresAt?: number }
  /** Refuse it: `unsigned` (signing is on and exp/sig are missing or malformed), `bad_signature`, or `expired`. */
  | { readonly ok: false; readonly reason: 'unsigned' | 'bad_signature' | 'expired' };

const EXP_PATTERN = /^\d{1,12}$/;
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Mints and checks the URLs of stored blobs. */
export class BlobUrls {
  private readonly secret: Buffer | undefined;

  constructor(private readonly options: BlobUrlOptions) {
    this.secret = options.secret === undefined ? undefined : Buffer.from(options.secret, 'utf8');
  }

  /** True when URLs are signed and expire. */
  get signing(): boolean {
    return this.secret !== undefined;
  }

  /** The base clients reach the bridge at (no trailing slash), or '' when unknown (path-only URLs). */
  baseUrl(): string {
    const base = typeof this.options.baseUrl === 'function' ? this.options.baseUrl() : this.options.baseUrl;
    return (base ?? '').replace(/\/+$/, '');
  }

  /** The URL serving `key`, signed and expiring `ttlMs` from now when signing is on. */
  url(key: string): string {
    const path = `${this.baseUrl()}${BLOB_ROUTE_PATH}/${key}`;
    if (this.secret === undefined) return path;
    const exp = Math.floor((this.options.clock.now() + this.options.ttlMs) / 1000);
    return `${path}?exp=${exp}&sig=${this.sign(key, String(exp))}`;
  }

  /** Decides whether a request for `key` with the query values `exp` and `sig` may be served. */
  verify(key: string, exp: unknown, sig: unknown): BlobUrlVerdict {
    if (this.secret === undefined) return { ok: true };
    if (typeof exp !== 'string' || typeof sig !== 'string' || !EXP_PATTERN.test(exp) || !SIG_PATTERN.test(sig)) return { ok: false, reason: 'unsigned' };
    const expected = Buffer.from(this.sign(key, exp), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad_signature' };
    const expiresAt = Number(exp) * 1000;
    if (this.options.clock.now() >= expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, expiresAt };
  }

  private sign(key: string, exp: string): string {
    return createHmac('sha256', this.secret as Buffer).update(`v1:${key}:${exp}`).digest('base64url');
  }
}
