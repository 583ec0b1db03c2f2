/**
 * `GET {prefix}/v1/images/blobs/{key}`: serves what the BlobStore holds. No API key: the URL is the
 * capability (192 random bits in the key, and with `BLOB_URL_SECRET` a signature and an expiry), so a client
 * can hand a result URL to a browser or another service. Refusals are error envelopes: 403 `blob_url_invalid`
 * (signing is on and the signature is missing or wrong), 403 `blob_url_expired`, 404 `blob_not_found`.
 */
import type { FastifyInstance } from 'fastify';
import { isBlobKey } from '../blobs/blob-keys';
import type { BlobStore } from '../blobs/blob-store';
import { BLOB_ROUTE_PATH, type BlobUrls } from '../blobs/blob-urls';
import { BridgeError } from '../platform/errors';

/** What the blob route needs. */
export interface BlobRouteDependencies {
  /** Where the bytes are. */
  readonly store: BlobStore;
  /** Checks signatures and expiry. */
  readonly urls: BlobUrls;
  /** Milliseconds since epoch (the Clock port), for the cache lifetime of a signed URL. */
  readonly now: () => number;
}

/** Registers the blob route on `app` (the bridge plugin's encapsulated instance). */
export function registerBlobRoute(app: FastifyInstance, deps: BlobRouteDependencies): void {
  app.get<{ Params: { key: string }; Querystring: Record<string, unknown> }>(`${BLOB_ROUTE_PATH}/:key`, async (request, reply) => {
    const { key } = request.params;
    const verdict = deps.urls.verify(key, request.query.exp, request.query.sig);
    if (!verdict.ok) {
      if (verdict.reason === 'expired') throw new BridgeError('blob_url_expired', 'This image URL has expired; signed image URLs are served for a limited time after the task finished.');
      throw new BridgeError('blob_url_invalid', 'This image URL is not valid: it must carry the exp and sig parameters the bridge signed, unchanged.');
    }
    const blob = isBlobKey(key) ? await deps.store.get(key) : undefined;
    if (blob === undefined) throw new BridgeError('blob_not_found', 'No image is stored under this URL (it was never stored, or it was removed).');
    // Stored blobs never change, so they may be cached: until the URL expires when signed, for a year when not.
    const maxAge = verdict.expiresAt === undefined ? 31_536_000 : Math.max(0, Math.floor((verdict.expiresAt - deps.now()) / 1000));
    reply
      .header('content-type', blob.mimeType)
      .header('content-length', String(blob.size))
      .header('cache-control', `private, max-age=${maxAge}, immutable`)
      // A result URL is meant to be embedded and fetched from anywhere (the plugin's default is same-origin).
      .header('cross-origin-resource-policy', 'cross-origin');
    if (request.method === 'HEAD') {
      // Headers only (with the real Content-Length): release the file handle or object stream at once.
      blob.body.destroy();
      reply.hijack();
      reply.raw.writeHead(200, reply.getHeaders() as Record<string, string>);
      reply.raw.end();
      return reply;
    }
    return reply.send(blob.body);
  });
}
