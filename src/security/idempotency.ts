/**
 * Idempotency-Key support: the fingerprint of a submit request and the store key of an (owner, key) pair.
 * The TaskService reserves the key in the TaskStore before any upstream call (see src/tasks/task-submitter.ts).
 */
import { createHash } from 'node:crypto';
import type { RawSubmit } from '../platform/submit-request';

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
 * sha256 (hex) of the request: the canonical JSON body and the sha256 of each uploaded file, in order. File
 * names and declared content types are left out: they do not change what is generated.
 */
export function requestFingerprint(raw: RawSubmit): string {
  const uploads = (raw.uploads ?? []).map((u) => createHash('sha256').update(u.bytes).digest('hex'));
  return createHash('sha256').update(canonicalJson({ body: raw.body, uploads })).digest('hex');
}

/** The store key of an Idempotency-Key: scoped to its owner (another owner's identical key is another key), hashed. */
export function idempotencyStoreKey(owner: string, key: string): string {
  return createHash('sha256').update(JSON.stringify([owner, key])).digest('base64url');
}
