/**
 * Request ids: an incoming X-Request-Id is honoured when it is short and plain, otherwise one is made.
 */
import { pooledRandomBytes } from '../util/pooled-random';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The request id to use: the sanitized incoming header, or a fresh `req_` + 96 random bits. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && SAFE_REQUEST_ID.test(value)) return value;
  return `req_${pooledRandomBytes(12).toString('base64url')}`;
}
