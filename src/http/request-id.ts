/**
 * Request ids: an incoming X-Request-Id is honoured when it is short and plain, otherwise one is made.
 */
import { pooledRandomBytes } from '../util/pooled-random';

/** An incoming X-Request-Id kept as is; anything else is replaced. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The request id to use: the sanitized incoming header, or a fresh `req_` + 96 random bits. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && REQUEST_ID_PATTERN.test(value)) return value;
  return `req_${pooledRandomBytes(12).toString('base64url')}`;
}
