/**
 * A BlobStore on S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, ...), `BLOB_STORE=s3`.
 *
 * Blobs are served through the bridge (`GET /v1/images/blobs/{key}`), not by presigned bucket URLs: the
 * bucket stays private, clients get one kind of URL whichever store is configured, signed and expired by
 * the bridge's one secret, and no presigner dependency is needed. The cost is that image bytes pass through
 * the bridge; a deployment that wants the bucket (or a CDN) to serve them can put its own BlobStore and
 * URL scheme behind the same port.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { checkedBlobType, isBlobKey, mediaTypeOfKey, newBlobKey } from './blob-keys';
import type { BlobContent, BlobStore, StoredBlob } from './blob-store';

/** Options of S3BlobStore (from the `S3_*` variables). */
export interface S3BlobStoreOptions {
  /** Bucket name (must exist). */
  readonly bucket: string;
  /** Region (S3-compatible servers often accept any, e.g. `us-east-1`). */
  readonly region: string;
  /** Endpoint of an S3-compatible server (`https://minio.internal:9000`); undefined: AWS S3. */
  readonly endpoint?: string;
  /** Access key id and secret; undefined: the AWS SDK's default credential chain (environment, profile, role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Path-style addressing (`{endpoint}/{bucket}/{key}`), which most S3-compatible servers need. */
  readonly forcePathStyle: boolean;
  /** Prefix of every object key (e.g. `image-task-bridge/`). */
  readonly keyPrefix: string;
  /** Random bytes for keys (a CSPRNG; default node:crypto). */
  readonly randomBytes?: (n: number) => Buffer;
  /** Per-request timeout in ms (default 30 s). */
  readonly requestTimeoutMs?: number;
}

/** Blobs as objects in one bucket. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly randomBytes: (n: number) => Buffer;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.randomBytes = options.randomBytes ?? randomBytes;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
      forcePathStyle: options.forcePathStyle,
      // Checksums only where the API requires them: S3-compatible servers differ in which of the SDK's newer
      // default checksum headers they accept or send back.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
    });
  }

  async put(bytes: Uint8Array, mimeType: string): Promise<StoredBlob> {
    const type = checkedBlobType(bytes, mimeType);
    const key = newBlobKey(this.randomBytes, type);
    await this.client.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Body: bytes, ContentType: type, ContentLength: bytes.byteLength }),
    );
    return { key, mimeType: type, size: bytes.byteLength };
  }

  async get(key: string): Promise<BlobContent | undefined> {
    if (!isBlobKey(key)) return undefined;
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      const body = answer.Body;
      if (!(body instanceof Readable)) throw new Error('the S3 client returned a body that is not a node stream');
      // The media type comes from the key, never from the object's metadata: what the bridge serves from its
      // own origin is only ever the raster types it stored.
      return { body, mimeType: mediaTypeOfKey(key), size: answer.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return `${this.options.keyPrefix}${key}`;
  }
}

// Only a missing object is "not found": a missing bucket is also a 404, but it is a configuration error that
// must surface (500 and a log line), not look like an unknown image.
function isNotFound(err: unknown): boolean {
  return (err as { name?: string }).name === 'NoSuchKey';
}
