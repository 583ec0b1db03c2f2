/**
 * redactSecrets: the one function that strips credentials from upstream text before it goes into an
 * error message or a log line. Upstreams echo keys back surprisingly often (in "invalid key sk-..." errors,
 * in signed URLs, in debug dumps of the request), so known secrets are removed literally and anything that
 * merely looks like a credential is removed by pattern.
 */

/** What a removed secret is replaced with. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this are not replaced literally (a 1-3 character "key" would mangle every text). */
const MIN_LITERAL_SECRET = 4;

// A credential-ish field name: "key", "api_key", "x-api-key", "apiKey", "access_token", "client_secret", ...
// Prefixes need a separator (or are a known word) so that "monkey" or "design" are not mistaken for one.
// Every repetition is bounded: an unbounded prefix makes text like "a-b.a-b.…" quadratic (ReDoS).
const CREDENTIAL_WORD = String.raw`(?:[A-Za-z0-9]{1,32}[_.-]){0,4}(?:access|refresh|id|api|secret|private|client|session|auth)?[_.-]?(?:key|token|secret|password|passwd|credentials?|signature|sig|authorization)`;

/** Each pattern with its replacement; order matters (specific shapes before the generic "word = value"). */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Query strings of URLs: presigned URLs (X-Amz-Signature, X-Amz-Credential, sig=, token=) carry their
  // credentials there, and upstreams quote reference URLs back in errors. Bounded repetitions (no ReDoS).
  [/\b(https?:\/\/[^\s?#"'<>]{1,2048})\?[^\s"'<>]{0,8192}/gi, `$1?${REDACTED}`],
  // Userinfo in URLs: https://user:pass@host
  [/\b([a-z][a-z0-9+.-]{0,19}:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi, `$1${REDACTED}@`],
  // Authorization schemes: "Bearer abc", "Key abc" (fal), "Basic abc", "Token abc".
  [/\b(Bearer|Basic|Key|Token)(\s+)[A-Za-z0-9._~+/=:-]{6,}/gi, `$1$2${REDACTED}`],
  // JWTs.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Vendor key shapes: sk-..., sk-proj-..., sk_live_..., pk_test_..., rk_..., fal/hub style "key_id:secret" hex pairs.
  [/\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,}\b/gi, REDACTED],
  // "api_key=...", "token: ...", "\"secret\": \"...\"", "x-api-key: ...", query strings "?key=...".
  [new RegExp(String.raw`\b(${CREDENTIAL_WORD})(["']?\s*[:=]\s*["']?)(?!\[redacted\]|(?:Bearer|Basic|Key|Token)\s)([^\s"'&,;)}\]]{3,})`, 'gi'), `$1$2${REDACTED}`],
  // "api key 0123abcd..." / "token AbC...": a long hex/base64 run right after a credential word.
  [new RegExp(String.raw`\b(${CREDENTIAL_WORD})(s?\W{1,3})(?!\[redacted\])([A-Za-z0-9+/_=-]{16,})`, 'gi'), `$1$2${REDACTED}`],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes every given secret (literally, and URL-encoded) and anything that looks like a credential
 * from `text`. Pure; safe to call on any string.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  // Longest first, so a secret that contains another one is removed whole.
  const literal = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_LITERAL_SECRET)
    .flatMap((s) => [s, encodeURIComponent(s)])
    .sort((a, b) => b.length - a.length);
  for (const secret of literal) {
    out = out.replace(new RegExp(escapeRegExp(secret), 'g'), REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
