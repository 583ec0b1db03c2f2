/**
 * The BlobStore port: where bytes that an upstream answers (an image as base64, a mirrored result) are kept,
 * so that a task record only ever holds a URL. Bytes never go into the task record.
 *
 * The port is storage only; which URL serves a stored blob, and whether that URL is signed and expires, is
 * the job of `BlobUrls` (src/blobs/blob-urls.ts). Every implementation serves its blobs through the bridge
 * (`GET {prefix}/v1/images/blobs/{key}`), so the filesystem and the S3-compatible store give clients the same
 * kind of URL, signed by the bridge's one secret, and a private bucket stays private.
 *
 * Implementations: `FileSystemBlobStore` (the default, `BLOB_DIR`) and `S3BlobStore` (`BLOB_STORE=s3`). Both
 * pass the shared contract suite in test/blobs/blob-store.contract.ts; an embedder's own store should too.
 */
import type { Readable } from 'node:stream';

/** What `put` stored. */
export interface StoredBlob {
  /** The unguessable key (>= 128 random bits, plus the file extension of its media type), e.g. `Zq3...x.png`. */
  readonly key: string;
  /** The media type, normalized (`image/png`). */
  readonly mimeType: string;
  /** Size in bytes. */
  readonly size: number;
}

/** A stored blob read back. */
export interface BlobContent {
  /** The bytes, as a stream the caller must consume or destroy. */
  readonly body: Readable;
  /** The media type, derived from the key (never from what the backing storage says about the object). */
  readonly mimeType: string;
  /** Size in bytes. */
  readonly size: number;
}

/** Storage of immutable blobs under random keys. */
export interface BlobStore {
  /** Short name for logs and the readiness line: `fs`, `s3`, or an embedder's. */
  readonly kind: string;
  /**
   * Stores `bytes` under a new random key and resolves once they are durable and readable from every instance
   * sharing the storage. `mimeType` must be an image type the bridge serves (`BLOB_MEDIA_TYPES`); anything
   * else, and empty bytes, are refused with a BridgeError (`upstream_error`: only upstream answers are stored).
   */
  put(bytes: Uint8Array, mimeType: string): Promise<StoredBlob>;
  /** The blob stored under `key`, or undefined (unknown key, or not a key this port could have made). */
  get(key: string): Promise<BlobContent | undefined>;
  /** Removes the blob; removing an unknown key is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
