/**
 * The one mapping from anything thrown while serving a request to a BridgeError (and so to the error
 * envelope). Fastify and @fastify/multipart errors get platform codes; unknown errors become a bare
 * internal_error whose details go to the log only.
 */
import { STATUS_CODES } from 'node:http';
import { BridgeError, isBridgeError, type ErrorCode } from '../platform/errors';
import type { Limits } from '../config/config';

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Fastify and @fastify/multipart error codes -> the platform code, the message (or one built from the limits) and the parameter. */
const FASTIFY_ERRORS: Readonly<Record<string, readonly [ErrorCode, string | ((limits: Limits) => string), string?]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', (l) => `The request body is larger than ${mib(l.bodyBytes)}; send a smaller body or upload images as files.`],
  FST_REQ_FILE_TOO_LARGE: ['payload_too_large', (l) => `An uploaded image is larger than ${mib(l.uploadBytes)}; send a smaller file.`, 'image'],
  FST_FILES_LIMIT: ['payload_too_large', (l) => `Too many uploaded files; at most ${l.maxReferences} reference images are accepted.`, 'image'],
  FST_PARTS_LIMIT: ['payload_too_large', 'The multipart body has too many fields; send each parameter once.'],
  FST_FIELDS_LIMIT: ['payload_too_large', 'The multipart body has too many fields; send each parameter once.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Unsupported Content-Type; send application/json or multipart/form-data.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'The JSON body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request', 'The request body is not valid JSON; send a JSON object.'],
  FST_PROTO_VIOLATION: ['invalid_request', 'A multipart field name is not allowed ("__proto__", "constructor", ...).'],
  FST_INVALID_JSON_FIELD_ERROR: ['invalid_request', 'A multipart field declared as application/json is not valid JSON; send parameters as plain text fields.'],
  FST_MP_PREMATURE_CLOSE: ['invalid_request', 'The multipart body ended before it was complete.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'The Content-Length header does not match the body.'],
};

/** Converts a thrown value to a BridgeError; `known` is false when it was not a deliberate error. */
export function toBridgeError(err: unknown, limits: Limits): { error: BridgeError; known: boolean } {
  if (isBridgeError(err)) return { error: err, known: true };
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; statusCode?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  const fastify = Object.hasOwn(FASTIFY_ERRORS, code) ? FASTIFY_ERRORS[code] : undefined;
  if (fastify) {
    const [platformCode, message, param] = fastify;
    const text = typeof message === 'string' ? message : message(limits);
    return { error: param === undefined ? new BridgeError(platformCode, text) : new BridgeError(platformCode, text, param), known: true };
  }
  // Fastify's JSON parser raises a SyntaxError with statusCode 400.
  if (e.name === 'SyntaxError' && status === 400) {
    return { error: new BridgeError('invalid_request', 'The request body is not valid JSON; send a JSON object.'), known: true };
  }
  if (status === 413) return { error: new BridgeError('payload_too_large', `The request is larger than ${mib(limits.bodyBytes)}.`), known: true };
  if (status === 415) return { error: new BridgeError('unsupported_media_type', 'Unsupported Content-Type; send application/json or multipart/form-data.'), known: true };
  if (status >= 400 && status < 500 && code.startsWith('FST_')) {
    return { error: new BridgeError('invalid_request', 'The request is malformed.'), known: true };
  }
  return { error: new BridgeError('internal_error', 'Internal error; nothing about it is shown here. Quote the X-Request-Id header when reporting it.'), known: false };
}

/**
 * An error raised while reading a multipart body. The multipart parser (busboy) reports a malformed body
 * (no boundary, a body that ends early, a bad part header) as a plain Error without a code: that is the
 * client's mistake, not ours. Coded errors (fastify's limits) and BridgeErrors pass through unchanged.
 */
export function multipartReadError(err: unknown): unknown {
  if (isBridgeError(err) || !(err instanceof Error) || err.constructor !== Error) return err;
  if (typeof (err as { code?: unknown }).code === 'string') return err;
  const detail = err.message.replace(/\s+/g, ' ').slice(0, 120);
  return new BridgeError('invalid_request', `The multipart body is malformed${detail ? ` (${detail})` : ''}; send multipart/form-data with a boundary and complete parts.`);
}

/** A complete raw HTTP/1.1 response carrying the error envelope, for sockets fastify never sees; it closes the connection. */
export function rawErrorResponse(error: BridgeError): string {
  const body = JSON.stringify(error.toEnvelope());
  return [
    `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    ...Object.entries(error.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * The raw HTTP answer to a request node's HTTP parser refused before fastify saw it (bad request line,
 * bad header, an unknown method, headers too large): the error envelope, then the connection is closed.
 */
export function clientErrorResponse(err: unknown): string {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const message =
    code === 'HPE_HEADER_OVERFLOW'
      ? 'The request headers are too large.'
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'The request was not received in time.'
        : 'The HTTP request is malformed (request line, method, headers or framing).';
  return rawErrorResponse(new BridgeError('invalid_request', message));
}
