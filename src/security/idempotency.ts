/**
 * Idempotency-Key support: the fingerprint of a submit request and the store key of an (owner, key) pair.
 * The TaskService reserves the key in the TaskStore before any upstream call (see src/tasks/task-submitter.ts).
 */
import { createHash } from 'node:crypto';
import type { ImageIntent } from '../intent/intent';

/** A valid Idempotency-Key header: 1-255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Default time an Idempotency-Key is remembered after its task was created: 24 hours. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** JSON with object keys sorted at every level: equal bodies give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * sha256 (hex) of the normalized request: what will be generated (the canonical intent, each reference by the
 * sha256 of its URL or data URI), its warnings, and the submit's options (callback URL). Spellings that mean the
 * same thing give the same fingerprint: `"seed": null` is an absent seed, key order and `image` vs `images` do
 * not matter, a multipart upload equals the same bytes as a data URI. Billing facts follow from the rest.
 */
export function intentFingerprint(intent: ImageIntent, options: Readonly<Record<string, unknown>> = {}): string {
  const { billing: _billing, references, ...rest } = intent;
  const refs = references.map((r) => createHash('sha256').update(r.url).digest('hex'));
  return createHash('sha256').update(canonicalJson({ intent: { ...rest, references: refs }, options })).digest('hex');
}

/**
 * How long a pending Idempotency-Key reservation lives: as long as a submit can run (each channel's connect and
 * submit timeout, tried in turn) plus a margin, not minutes. A reservation older than that belongs to a submit
 * that died; when its task was stored the key answers that task at once (src/tasks/task-submitter.ts).
 */
export function idempotencyPendingTtlMs(submitTimeoutMs: number, connectTimeoutMs: number, channels: number): number {
  return Math.max(1, channels) * (submitTimeoutMs + connectTimeoutMs) + 30_000;
}

/** The store key of an Idempotency-Key: scoped to its owner (another owner's identical key is another key), hashed. */
export function idempotencyStoreKey(owner: string, key: string): string {
  return createHash('sha256').update(JSON.stringify([owner, key])).digest('base64url');
}
