/**
 * The BlobStore contract, run against every implementation (filesystem and S3-compatible). Not a test file by
 * itself: each store's test file calls `describeBlobStoreContract` with a harness. The checks are also exported
 * one by one, so test/blobs/blob-store.broken.test.ts can show that each of them fails on a broken store.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../src/blobs/blob-store';
import type { BlobUrls } from '../../src/blobs/blob-urls';
import { BLOB_STORE, BLOB_URLS, CLOCK } from '../../src/di/tokens';
import { FakeClock } from '../support/fake-clock';
import { hubConfig, start } from '../http/gateway-support';

/** One store under test. */
export interface BlobStoreUnderTest {
  /** The store. */
  readonly store: BlobStore;
  /** A second store on the same backing storage (another bridge instance). */
  readonly peer: BlobStore;
  /** Closes both and removes test data. */
  dispose(): Promise<void>;
}

/** Builds a fresh store. */
export type BlobStoreHarness = () => Promise<BlobStoreUnderTest>;

/** One check of the contract. */
export interface BlobStoreCheck {
  /** What it proves. */
  readonly name: string;
  /** Throws (a failed expectation) when the store breaks the contract. */
  run(sut: BlobStoreUnderTest): Promise<void>;
}

/** Reads a stream to one buffer. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** `size` bytes that differ at every position (a repeated pattern would hide swapped or dropped chunks). */
export function distinctBytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`seed-${seed}`).digest();
  for (let offset = 0; offset < size; offset += block.length) {
    block.copy(out, offset, 0, Math.min(block.length, size - offset));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const KEY = /^[A-Za-z0-9_-]{32}\.(png|jpg|webp|gif|avif)$/;
const SECRET = 'blob-contract-secret-0123456789abcdef';
const TTL_MS = 60_000;

/** Every check of the contract. */
export const blobStoreChecks: readonly BlobStoreCheck[] = [
  {
    name: 'put then get answers the same bytes, media type and size, from another instance too',
    async run({ store, peer }) {
      const bytes = Buffer.concat([PNG_SIGNATURE, distinctBytes(4096)]);
      const stored = await store.put(bytes, 'image/png');
      expect(stored).toStrictEqual({ key: expect.stringMatching(KEY), mimeType: 'image/png', size: bytes.length });
      for (const reader of [store, peer]) {
        const blob = await reader.get(stored.key);
        expect(blob).toBeDefined();
        expect({ mimeType: blob!.mimeType, size: blob!.size }).toStrictEqual({ mimeType: 'image/png', size: bytes.length });
        expect((await readAll(blob!.body)).equals(bytes)).toBe(true);
      }
    },
  },
  {
    name: 'a 10 MiB image round-trips byte-identical',
    async run({ store, peer }) {
      const bytes = distinctBytes(10 * 1024 * 1024, 7);
      const stored = await store.put(bytes, 'image/webp');
      const blob = await peer.get(stored.key);
      const back = await readAll(blob!.body);
      expect(back.length).toBe(bytes.length);
      expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    },
  },
  {
    name: 'keys are unguessable: 192 random bits in base64url plus the extension, a new one for every put',
    async run({ store }) {
      const bytes = distinctBytes(100);
      const keys = await Promise.all([1, 2, 3, 4].map(() => store.put(bytes, 'image/jpeg').then((s) => s.key)));
      for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{32}\.jpg$/);
      expect(new Set(keys).size).toBe(4);
      // Not a counter or a hash of the content: the random parts share no long prefix.
      const prefixes = new Set(keys.map((k) => k.slice(0, 6)));
      expect(prefixes.size).toBe(4);
    },
  },
  {
    name: 'media types: normalized, only raster image types stored, empty bytes refused',
    async run({ store }) {
      const stored = await store.put(distinctBytes(10), 'IMAGE/JPEG; charset=binary');
      expect(stored.mimeType).toBe('image/jpeg');
      expect(stored.key.endsWith('.jpg')).toBe(true);
      expect((await store.get(stored.key))?.mimeType).toBe('image/jpeg');
      for (const type of ['image/svg+xml', 'text/html', 'application/octet-stream', '']) {
        await expect(store.put(distinctBytes(10), type)).rejects.toMatchObject({ code: 'upstream_error' });
      }
      await expect(store.put(Buffer.alloc(0), 'image/png')).rejects.toMatchObject({ code: 'upstream_error', message: 'The upstream answered an empty image.' });
    },
  },
  {
    name: 'unknown, malformed and path-like keys answer undefined',
    async run({ store }) {
      const stored = await store.put(distinctBytes(10), 'image/png');
      const unknown = `${'A'.repeat(32)}.png`;
      const sameRandomOtherType = stored.key.replace(/\.png$/, '.gif');
      for (const key of [unknown, sameRandomOtherType, '../../../etc/passwd', `../${stored.key}`, `${stored.key}/`, stored.key.slice(1), '', 'a.png']) {
        const blob = await store.get(key);
        expect({ key, found: blob !== undefined }).toStrictEqual({ key, found: false });
      }
    },
  },
  {
    name: 'delete removes the blob for every instance; deleting an unknown or malformed key is not an error',
    async run({ store, peer }) {
      const stored = await store.put(distinctBytes(10), 'image/png');
      await peer.delete(stored.key);
      expect(await store.get(stored.key)).toBeUndefined();
      await store.delete(stored.key);
      await store.delete('../nothing');
    },
  },
  {
    name: 'served by the bridge with signing on: the signed URL serves the bytes; unsigned, tampered and expired URLs are refused',
    async run({ store }) {
      const clock = new FakeClock();
      const gateway = await start(hubConfig({ BLOB_URL_SECRET: SECRET, BLOB_URL_TTL_MS: String(TTL_MS) }), {
        register: (c) => {
          c.register(BLOB_STORE, { useValue: store });
          c.register(CLOCK, { useValue: clock });
        },
      });
      try {
        const urls = gateway.container.resolve<BlobUrls>(BLOB_URLS);
        const bytes = Buffer.concat([PNG_SIGNATURE, distinctBytes(2048, 3)]);
        const { key } = await store.put(bytes, 'image/png');
        const signed = urls.url(key);
        expect(signed).toMatch(new RegExp(`^${gateway.url}/v1/images/blobs/${key.replace('.', '\\.')}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));

        const ok = await fetch(signed);
        expect(ok.status).toBe(200);
        expect(ok.headers.get('content-type')).toBe('image/png');
        expect(ok.headers.get('content-length')).toBe(String(bytes.length));
        expect(ok.headers.get('cache-control')).toBe('private, max-age=60, immutable');
        expect(Buffer.from(await ok.arrayBuffer()).equals(bytes)).toBe(true);

        const envelope = async (url: string): Promise<{ status: number; body: unknown }> => {
          const res = await fetch(url);
          return { status: res.status, body: await res.json() };
        };
        const invalid = { status: 403, body: { code: 'blob_url_invalid', message: 'This image URL is not valid: it must carry the exp and sig parameters the bridge signed, unchanged.', data: null } };
        expect(await envelope(`${gateway.url}/v1/images/blobs/${key}`)).toStrictEqual(invalid);
        const exp = /exp=(\d+)/.exec(signed)![1]!;
        expect(await envelope(signed.replace(`exp=${exp}`, `exp=${Number(exp) + 3600}`))).toStrictEqual(invalid);
        const otherKey = (await store.put(bytes, 'image/png')).key;
        expect(await envelope(signed.replace(key, otherKey))).toStrictEqual(invalid);

        const unknownKey = `${'B'.repeat(32)}.png`;
        expect(await envelope(urls.url(unknownKey))).toStrictEqual({
          status: 404,
          body: { code: 'blob_not_found', message: 'No image is stored under this URL (it was never stored, or it was removed).', data: null },
        });

        clock.advance(TTL_MS);
        expect(await envelope(signed)).toStrictEqual({
          status: 403,
          body: { code: 'blob_url_expired', message: 'This image URL has expired; signed image URLs are served for a limited time after the task finished.', data: null },
        });
      } finally {
        await gateway.close();
      }
    },
  },
];

/** Registers the contract tests for one store implementation. */
export function describeBlobStoreContract(name: string, harness: BlobStoreHarness): void {
  describe(`BlobStore contract: ${name}`, () => {
    let sut: BlobStoreUnderTest;
    beforeEach(async () => {
      sut = await harness();
    });
    afterEach(async () => {
      await sut.dispose();
    });
    for (const check of blobStoreChecks) test(check.name, () => check.run(sut));
  });
}
