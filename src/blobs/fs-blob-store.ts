/**
 * The default BlobStore: files under one directory (`BLOB_DIR`), `<dir>/<first two key characters>/<key>`
 * (the two-character level keeps any one directory small). A put writes a temporary file and renames it into
 * place, so a reader (another instance on a shared volume included) sees the whole blob or none of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkedBlobType, isBlobKey, mediaTypeOfKey, newBlobKey } from './blob-keys';
import type { BlobContent, BlobStore, StoredBlob } from './blob-store';

/** Options of FileSystemBlobStore. */
export interface FileSystemBlobStoreOptions {
  /** The directory (created on the first put). */
  readonly dir: string;
  /** Random bytes for keys (a CSPRNG; default node:crypto). */
  readonly randomBytes?: (n: number) => Buffer;
}

/** Blobs as files in one directory. */
export class FileSystemBlobStore implements BlobStore {
  readonly kind = 'fs';
  private readonly randomBytes: (n: number) => Buffer;

  constructor(private readonly options: FileSystemBlobStoreOptions) {
    this.randomBytes = options.randomBytes ?? randomBytes;
  }

  async put(bytes: Uint8Array, mimeType: string): Promise<StoredBlob> {
    const type = checkedBlobType(bytes, mimeType);
    const key = newBlobKey(this.randomBytes, type);
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${this.randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, bytes, { flag: 'wx', mode: 0o600 });
      await rename(temporary, path);
    } catch (err) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw err;
    }
    return { key, mimeType: type, size: bytes.byteLength };
  }

  async get(key: string): Promise<BlobContent | undefined> {
    if (!isBlobKey(key)) return undefined;
    let handle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      return { body: handle.createReadStream(), mimeType: mediaTypeOfKey(key), size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    await rm(this.pathOf(key), { force: true });
  }

  async close(): Promise<void> {
    // Nothing to release: every file handle is closed by the stream that owns it.
  }

  private pathOf(key: string): string {
    return join(this.options.dir, key.slice(0, 2), key);
  }
}
