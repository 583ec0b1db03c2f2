/**
 * The BlobStore contract can fail: every check fails on a deliberately broken store, and passes on the same
 * store without its flaw. The stores here are in-memory test doubles built for this proof, never used elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { checkedBlobType, isBlobKey, newBlobKey } from '../../src/blobs/blob-keys';
import type { BlobContent, BlobStore, StoredBlob } from '../../src/blobs/blob-store';
import { blobStoreChecks, type BlobStoreUnderTest } from './blob-store.contract';

/** One deliberate flaw. */
type Flaw = 'none' | 'truncates' | 'counter-keys' | 'accepts-any-type' | 'lenient-keys' | 'delete-ignored' | 'instance-local' | 'wrong-type-on-read';

class FlawedBlobStore implements BlobStore {
  readonly kind = 'flawed';
  private counter = 0;

  constructor(
    private readonly flaw: Flaw,
    private readonly data: Map<string, { bytes: Buffer; mimeType: string }>,
  ) {}

  async put(bytes: Uint8Array, mimeType: string): Promise<StoredBlob> {
    const type = this.flaw === 'accepts-any-type' ? (BLOB_TYPES.includes(mimeType) ? mimeType : 'image/png') : checkedBlobType(bytes, mimeType);
    let copy = Buffer.from(bytes);
    if (this.flaw === 'truncates') copy = copy.subarray(0, 1024 * 1024);
    this.counter += 1;
    const key = this.flaw === 'counter-keys' ? `${String(this.counter).padStart(32, '0')}.${type.slice(6).replace('jpeg', 'jpg')}` : newBlobKey(randomBytes, type);
    this.data.set(key, { bytes: copy, mimeType: type });
    return { key, mimeType: type, size: bytes.byteLength };
  }

  async get(key: string): Promise<BlobContent | undefined> {
    const entry = this.data.get(key) ?? (this.flaw === 'lenient-keys' && !isBlobKey(key) ? [...this.data.values()][0] : undefined);
    if (entry === undefined) return undefined;
    const mimeType = this.flaw === 'wrong-type-on-read' ? 'application/octet-stream' : entry.mimeType;
    return { body: Readable.from([entry.bytes]), mimeType, size: entry.bytes.length };
  }

  async delete(key: string): Promise<void> {
    if (this.flaw !== 'delete-ignored') this.data.delete(key);
  }

  async close(): Promise<void> {}
}

const BLOB_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif'];

function flawed(flaw: Flaw): BlobStoreUnderTest {
  const shared = new Map<string, { bytes: Buffer; mimeType: string }>();
  return {
    store: new FlawedBlobStore(flaw, shared),
    peer: new FlawedBlobStore(flaw, flaw === 'instance-local' ? new Map() : shared),
    dispose: async () => undefined,
  };
}

/** Which check each flaw must break (by the start of its name). */
const BROKEN_BY: ReadonlyArray<[Flaw, string]> = [
  ['instance-local', 'put then get answers the same bytes'],
  ['wrong-type-on-read', 'put then get answers the same bytes'],
  ['truncates', 'a 10 MiB image round-trips'],
  ['counter-keys', 'keys are unguessable'],
  ['accepts-any-type', 'media types:'],
  ['lenient-keys', 'unknown, malformed and path-like keys'],
  ['delete-ignored', 'delete removes the blob'],
  ['wrong-type-on-read', 'served by the bridge'],
];

test('every check of the contract is broken by at least one flaw below', () => {
  const covered = new Set(BROKEN_BY.map(([, check]) => blobStoreChecks.find((c) => c.name.startsWith(check))?.name));
  expect(blobStoreChecks.filter((c) => !covered.has(c.name)).map((c) => c.name)).toStrictEqual([]);
});

test.each(blobStoreChecks.map((c) => [c.name, c] as const))('the flawless in-memory store passes: %s', async (_name, check) => {
  await check.run(flawed('none'));
});

test.each(BROKEN_BY)('a store with the flaw "%s" fails the check "%s"', async (flaw, checkName) => {
  const check = blobStoreChecks.find((c) => c.name.startsWith(checkName));
  expect(check).toBeDefined();
  await expect(check!.run(flawed(flaw))).rejects.toThrow();
});
