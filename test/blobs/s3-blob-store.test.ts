/**
 * S3BlobStore passes the BlobStore contract against a real S3-compatible server: the `s3rver` package run as
 * its own process on a loopback port (test/support/s3rver.ts). Each harness uses its own key prefix.
 */
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/blobs/s3-blob-store';
import { startS3rver, type S3rverProcess } from '../support/s3rver';
import { describeBlobStoreContract, distinctBytes } from './blob-store.contract';

let server: S3rverProcess;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(async () => {
  await server?.stop();
});

let run = 0;
function options(keyPrefix: string): S3BlobStoreOptions {
  return { bucket: server.bucket, region: 'us-east-1', endpoint: server.endpoint, credentials: server.credentials, forcePathStyle: true, keyPrefix };
}

describeBlobStoreContract('S3-compatible (s3rver)', async () => {
  run += 1;
  const prefix = `contract-${run}/`;
  const store = new S3BlobStore(options(prefix));
  const peer = new S3BlobStore(options(prefix));
  return {
    store,
    peer,
    async dispose() {
      await store.close();
      await peer.close();
    },
  };
});

test('objects live under S3_KEY_PREFIX: another prefix does not see them', async () => {
  const a = new S3BlobStore(options('tenant-a/'));
  const b = new S3BlobStore(options('tenant-b/'));
  try {
    const { key } = await a.put(distinctBytes(10), 'image/png');
    expect(await a.get(key)).toBeDefined();
    expect(await b.get(key)).toBeUndefined();
  } finally {
    await a.close();
    await b.close();
  }
});

test('a bucket that does not exist fails the put and the get with the S3 error (nothing is pretended)', async () => {
  const wrong = new S3BlobStore({ ...options('x/'), bucket: 'no-such-bucket' });
  try {
    await expect(wrong.put(distinctBytes(10), 'image/png')).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await expect(wrong.get(`${'C'.repeat(32)}.png`)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  } finally {
    await wrong.close();
  }
});
