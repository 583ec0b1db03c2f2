/**
 * The JSON body parser of the platform API: fastify's own (secure-json-parse, `__proto__` and `constructor`
 * refused) behind a bounded nesting check. JSON.parse builds every level of a deeply nested document before
 * anything can look at it: a 17 MiB body nested 9 million levels deep exhausted a 512 MiB heap and froze
 * the event loop for tens of seconds (docs/reliability.md, "hostile requests"). The accepted submit body
 * needs a depth of 2 (`{"images":["..."]}`), so nesting is counted on the raw text first, one pass with no
 * allocation, and the scan stops at the first bracket past the limit.
 */
import type { FastifyBodyParser } from 'fastify';
import { BridgeError } from '../platform/errors';

/** Deepest nesting of objects and arrays accepted in a JSON body (the submit schema needs 2). */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The nesting depth of the JSON text, counted up to `limit + 1` (the scan stops there). Brackets inside
 * strings do not count. Malformed text is not judged here: JSON.parse refuses it afterwards.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The error for a body nested deeper than the limit. */
export function tooDeepError(limit: number): BridgeError {
  return new BridgeError('invalid_request', `The JSON body is nested more than ${limit} levels deep; a submit body needs 2 (an object holding the images array).`);
}

/** Wraps fastify's JSON parser (string body) with the nesting check. */
export function depthLimitedJsonParser(parse: FastifyBodyParser<string>, limit: number = MAX_JSON_DEPTH): FastifyBodyParser<string> {
  return function parseJsonBody(this: unknown, request, body, done) {
    if (jsonDepthExceeds(body, limit)) {
      done(tooDeepError(limit), undefined);
      return;
    }
    parse.call(this as never, request, body, done);
  };
}
