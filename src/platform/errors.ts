/**
 * The platform's error codes and the one error class family the whole code base throws.
 * Check errors by `code`, never by `instanceof` (errors cross module and realm boundaries in tests).
 */

/** Every error code of the platform error envelope, with its HTTP status. */
export const ERROR_STATUS = {
  invalid_request: 400,
  missing_parameter: 400,
  invalid_parameter: 400,
  unsupported_parameter: 400,
  unknown_parameter: 400,
  conflicting_parameters: 400,
  model_not_found: 400,
  model_unavailable: 400,
  upstream_rejected: 400,
  unauthorized: 401,
  blob_url_invalid: 403,
  blob_url_expired: 403,
  task_not_found: 404,
  blob_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  upstream_unavailable: 503,
  not_ready: 503,
  upstream_timeout: 504,
} as const;

/** A platform error code (snake_case). */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every error code, in the order of ERROR_STATUS (by HTTP status). */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/**
 * When each code is answered, in one sentence for API clients. The OpenAPI document and docs/api.md show
 * these texts (a test renders the docs/api.md table from here), so a new code does not compile without one.
 */
export const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  invalid_request: 'The body is not a JSON object, is malformed or empty JSON or multipart, or the HTTP request itself is malformed (path encoding, headers, framing).',
  missing_parameter: 'A required field is absent: model, prompt (also a blank one), size for gpt-image-2, a reference image for task_type image2image.',
  invalid_parameter: 'A value is wrong: wrong type, not allowed for the model, prompt too long, a bad reference image or URL, too many references, a multipart field sent twice, a bad Idempotency-Key header.',
  unsupported_parameter: 'A known field the model does not take (aspect_ratio with gpt-image-2).',
  unknown_parameter: 'Fields the platform does not know (all are named), or a multipart file field other than image.',
  conflicting_parameters: 'Fields contradict each other: a Nano size whose ratio differs from aspect_ratio.',
  model_not_found: 'No platform model has this name; the message lists the models.',
  model_unavailable: 'The model exists but nothing serves it: no configured upstream serves the model (or its tier); it is never silently downgraded.',
  upstream_rejected: 'The upstream refused the request (an HTTP 4xx other than 401, 402, 403, 404 and 429); its reason is passed on.',
  unauthorized: 'The Authorization header is missing or the API key is unknown; send "Authorization: Bearer <key>".',
  blob_url_invalid: 'Image URL signing is on (BLOB_URL_SECRET) and the stored-image URL has no valid exp and sig parameters; use the URL exactly as the task gave it.',
  blob_url_expired: 'The signed stored-image URL is past its exp (BLOB_URL_TTL_MS after the task finished); the image is no longer served.',
  task_not_found: 'No task with this id exists for this API key (another key\'s task and a malformed id get the same answer).',
  blob_not_found: 'No image is stored under this URL (never stored, or removed).',
  route_not_found: 'No route has this path.',
  method_not_allowed: 'The path exists but not with this method; the Allow header lists the methods.',
  idempotency_conflict: 'The Idempotency-Key was already used with a different request, or the task it created is no longer available.',
  payload_too_large: 'The body, one image (data URI or upload), or the number of multipart files or fields is over the limit.',
  unsupported_media_type: 'The Content-Type is neither application/json nor multipart/form-data.',
  rate_limited: 'The API key is over a submit limit (rate or open tasks); the Retry-After header says when to retry.',
  internal_error: 'A bug or bad configuration; the details are in the server log under the X-Request-Id, never in the response.',
  upstream_error: 'The upstream answered something unusable: an HTTP 5xx, refused channel credentials, a 404, a redirect, an unreadable or oversized body.',
  upstream_unavailable: 'The upstream cannot be reached or is rate limiting the bridge (connection refused, network error, HTTP 429), or the task store (Redis) does not answer (then with Retry-After); retry later.',
  not_ready: 'The readiness probe\'s task store does not answer, or the standalone server is at MAX_CONNECTIONS (any route, with Retry-After; the connection is closed).',
  upstream_timeout: 'The upstream did not answer within the configured timeout.',
};

/** The platform error envelope, as sent on the wire. */
export interface ErrorEnvelope {
  /** Machine-readable snake_case code. */
  code: ErrorCode;
  /** What is wrong and how to fix it. */
  message: string;
  /** The offending request field, when one is to blame. */
  param?: string;
  /** Always null on errors, so clients can share one response type. */
  data: null;
}

/** Base of every error the bridge raises on purpose. */
export class BridgeError extends Error {
  /** HTTP status derived from the code. */
  readonly httpStatus: number;
  constructor(
    /** Platform error code. */
    readonly code: ErrorCode,
    message: string,
    /** The offending request field, if any. */
    readonly param?: string,
    /** Extra headers the HTTP layer should send (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'BridgeError';
    this.httpStatus = ERROR_STATUS[code];
  }

  /** The wire envelope of this error. */
  toEnvelope(): ErrorEnvelope {
    // Key order as documented: code, message, param?, data.
    return { code: this.code, message: this.message, ...(this.param !== undefined ? { param: this.param } : {}), data: null };
  }
}

/** A request the platform rejects before any upstream is called. */
export class ValidationError extends BridgeError {
  constructor(
    code: Extract<
      ErrorCode,
      | 'invalid_request'
      | 'missing_parameter'
      | 'invalid_parameter'
      | 'unsupported_parameter'
      | 'unknown_parameter'
      | 'conflicting_parameters'
      | 'model_not_found'
      | 'payload_too_large'
      | 'unsupported_media_type'
    >,
    message: string,
    param?: string,
  ) {
    super(code, message, param);
    this.name = 'ValidationError';
  }
}

/** No configured upstream serves what the intent asks for. */
export class ModelUnavailableError extends BridgeError {
  constructor(message: string, param = 'model') {
    super('model_unavailable', message, param);
    this.name = 'ModelUnavailableError';
  }
}

/** How an upstream call failed; decides retry, failover and the platform code. */
export type UpstreamFailureKind =
  | 'connection_refused'
  | 'network'
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'rejected'
  | 'auth'
  | 'not_found'
  | 'malformed'
  | 'too_large'
  | 'redirect';

/** An upstream call that failed, already typed and with secrets removed from its text. */
export class UpstreamError extends BridgeError {
  constructor(
    /** What went wrong on the wire. */
    readonly kind: UpstreamFailureKind,
    message: string,
    /** Upstream HTTP status, when there was a response. */
    readonly upstreamStatus?: number,
    /** Seconds the upstream asked us to wait (Retry-After), if any. */
    readonly retryAfterSeconds?: number,
  ) {
    super(upstreamCodeFor(kind), message);
    this.name = 'UpstreamError';
  }

  /** True when the same request may be sent again (or to another channel) without risk. */
  get isRetryable(): boolean {
    return ['connection_refused', 'network', 'timeout', 'rate_limited', 'server_error'].includes(this.kind);
  }

  /** True when the request provably never reached the upstream, so even a submit may be re-sent. */
  get neverLeft(): boolean {
    return this.kind === 'connection_refused';
  }
}

function upstreamCodeFor(kind: UpstreamFailureKind): ErrorCode {
  switch (kind) {
    case 'timeout':
      return 'upstream_timeout';
    case 'connection_refused':
    case 'network':
    case 'rate_limited':
      return 'upstream_unavailable';
    case 'rejected':
      return 'upstream_rejected';
    default:
      return 'upstream_error';
  }
}

/** Bad configuration: start-up stops with this one line. */
export class ConfigError extends BridgeError {
  constructor(message: string) {
    super('internal_error', message);
    this.name = 'ConfigError';
  }
}

/** True for any error raised by the bridge on purpose (checked by shape, not by class). */
export function isBridgeError(err: unknown): err is BridgeError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code in ERROR_STATUS &&
    typeof (err as { httpStatus?: unknown }).httpStatus === 'number'
  );
}

/** The answer for an unknown, foreign or malformed task id: the same for all three, so it never reveals that an id exists. */
export function taskNotFoundError(): BridgeError {
  return new BridgeError('task_not_found', 'No task with this id exists for this API key. Check the task_id returned by the submit call.', 'task_id');
}

/** True for an UpstreamError (checked by shape, like isBridgeError, so copies from another module instance count). */
export function isUpstreamError(err: unknown): err is UpstreamError {
  return isBridgeError(err) && typeof (err as { kind?: unknown }).kind === 'string' && typeof (err as { isRetryable?: unknown }).isRetryable === 'boolean';
}
