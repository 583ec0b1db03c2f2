/**
 * What a host (Express, Connect, node:http) did to a request before handing it to the bridge: where it
 * mounted the bridge (Express's `req.baseUrl`, or the handler's `mountPath`), and whether a body parser in
 * front of it already read the body. A read body can never be read again: fastify would wait for data that
 * never comes (a submit behind a global `express.json()` hung with no answer and no log line).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BridgeError } from '../platform/errors';

/**
 * The mount path of a request that came through createRequestHandler, kept on the request under a symbol. Not in a
 * WeakMap keyed by the request: V8 drops such entries only in a full GC, so every request would wait in the old
 * space for the next one (docs/benchmarks.md "Promoted bytes").
 */
const MOUNT_PATH: unique symbol = Symbol('image-task-bridge.mountPath');
type MountedRequest = IncomingMessage & { [MOUNT_PATH]?: string };

/** Records where the host mounted the bridge for this request (`''` at the root). */
export function setMountPath(req: IncomingMessage, path: string): void {
  if (path !== '') (req as MountedRequest)[MOUNT_PATH] = path;
}

/** Where the host mounted the bridge for this request: the prefix of every URL the bridge hands out. */
export function mountPathOf(req: IncomingMessage): string {
  return (req as MountedRequest)[MOUNT_PATH] ?? '';
}

/** The request as body parsers leave it: Express/body-parser set `body` (and `_body` once they parsed it). */
type HostParsed = IncomingMessage & { body?: unknown; _body?: unknown };

/**
 * True when something read the request's body before the bridge got it: the stream has ended (body-parser 2's
 * own test, on-finished's isFinished), or body-parser 1 marked it. A `body` property alone proves nothing:
 * body-parser 1 sets `req.body = {}` on requests it does not parse (a multipart request behind express.json()).
 */
function bodyConsumed(req: HostParsed): boolean {
  return req._body === true || req.readableEnded || (req.complete && !req.readable);
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * A stream of the body the host already read, for fastify to parse with the bridge's own parser and limits:
 * the bytes themselves (`express.raw()`, `express.text()`), or the JSON value re-serialized (`express.json()`).
 * Undefined when the body is unread. A body the bridge cannot get back (multipart a host parser consumed, or a
 * stream drained without keeping the data) is refused with 415 and a message that says how to mount the bridge.
 */
export function hostParsedBody(req: IncomingMessage): Readable | undefined {
  const r = req as HostParsed;
  if (!bodyConsumed(r)) return undefined;
  let bytes: Buffer | undefined;
  // @fastify/multipart reads the raw request itself, whatever stream is handed on here.
  if (/^multipart\//i.test(req.headers['content-type'] ?? '')) bytes = undefined;
  else if (Buffer.isBuffer(r.body)) bytes = r.body;
  else if (typeof r.body === 'string') bytes = Buffer.from(r.body, 'utf8');
  else if (isJson(r) && r.body !== undefined) bytes = Buffer.from(JSON.stringify(r.body), 'utf8');
  if (bytes === undefined) {
    throw new BridgeError(
      'unsupported_media_type',
      'The host application read this request body before the image bridge (a body parser mounted in front of it), and it cannot be recovered: send the request as application/json, or have the operator mount the bridge before body parsers.',
    );
  }
  const stream = Readable.from([bytes], { objectMode: false });
  // fastify compares the bytes it reads with Content-Length unless the stream reports what arrived on the wire.
  const declared = Number(req.headers['content-length']);
  (stream as Readable & { receivedEncodedLength?: number }).receivedEncodedLength = Number.isFinite(declared) && declared >= 0 ? declared : bytes.length;
  return stream;
}
