/** FileSystemBlobStore passes the BlobStore contract; plus what only a directory can show. */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemBlobStore } from '../../src/blobs/fs-blob-store';
import { describeBlobStoreContract, distinctBytes } from './blob-store.contract';

describeBlobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'itb-blobs-'));
  return {
    store: new FileSystemBlobStore({ dir }),
    peer: new FileSystemBlobStore({ dir }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FileSystemBlobStore on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'itb-blobs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('creates BLOB_DIR on the first put; a blob is one owner-only file under its two-character folder, no temporary left', async () => {
    const root = join(dir, 'nested', 'blobs');
    const store = new FileSystemBlobStore({ dir: root });
    const { key } = await store.put(distinctBytes(10), 'image/png');
    const folder = join(root, key.slice(0, 2));
    expect(await readdir(root)).toStrictEqual([key.slice(0, 2)]);
    expect(await readdir(folder)).toStrictEqual([key]);
    expect((await stat(join(folder, key))).mode & 0o777).toBe(0o600);
  });
});
