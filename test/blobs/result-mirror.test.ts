/**
 * HttpResultMirror on real sockets: a loopback HTTP server plays the upstream's file host, a real filesystem
 * BlobStore keeps the copies. A copy is byte-identical; the private-address guard refuses loopback unless the
 * test lets it through (an injected option, never an environment default), on the literal address and on the
 * address a name resolves to at connect time; redirects, oversized and non-image answers are failures that keep
 * the upstream's URL; a URL the result-URL policy refuses is never fetched.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobUrls } from '../../src/blobs/blob-urls';
import { FileSystemBlobStore } from '../../src/blobs/fs-blob-store';
import { HttpResultMirror } from '../../src/blobs/result-mirror';
import { createResultUrlCheck, defaultResultUrlCheck } from '../../src/security/result-url-policy';

/** A PNG-signed body of `size` bytes (random after the signature, so a copy that drops or reorders bytes shows). */
function pngBytes(size: number): Buffer {
  const bytes = randomBytes(size);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
}

let dir: string;
let server: Server;
let base: string;
const hits: string[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
let store: FileSystemBlobStore;
const urls = new BlobUrls({ baseUrl: 'https://bridge.example.com', ttlMs: 1000, clock: { now: () => 0 } });

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'itb-mirror-'));
  store = new FileSystemBlobStore({ dir });
  hits.length = 0;
  routes.clear();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readBack(url: string): Promise<Buffer> {
  const key = url.slice(url.lastIndexOf('/') + 1);
  const blob = await store.get(key);
  if (!blob) throw new Error(`no blob ${key}`);
  const chunks: Buffer[] = [];
  for await (const chunk of blob.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function serve(path: string, body: Buffer, type = 'application/octet-stream'): void {
  routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': type, 'content-length': String(body.length) }).end(body));
}

test('a 3 MiB image is copied byte-identical, typed by its bytes (not the declared octet-stream), and keeps its size fields', async () => {
  const bytes = pngBytes(3 * 1024 * 1024);
  serve('/out/image.png', bytes);
  const mirror = new HttpResultMirror(store, urls, { allowHosts: ['127.0.0.1'] });
  try {
    const outcome = await mirror.mirror([{ url: `${base}/out/image.png`, width: 1024, height: 768 }], defaultResultUrlCheck);
    expect(outcome.failures).toStrictEqual([]);
    expect(outcome.storedUrls).toHaveLength(1);
    const stored = outcome.storedUrls[0] as string;
    expect(stored).toMatch(/^https:\/\/bridge\.example\.com\/v1\/images\/blobs\/[A-Za-z0-9_-]{32}\.png$/);
    expect(outcome.images).toStrictEqual([{ url: stored, contentType: 'image/png', width: 1024, height: 768 }]);
    expect((await readBack(stored)).equals(bytes)).toBe(true);
    expect(hits).toStrictEqual(['/out/image.png']);
  } finally {
    mirror.close();
  }
});

test('loopback is refused by default (no option relaxes it but the injected allow list): nothing is fetched, the upstream URL stays', async () => {
  serve('/out/image.png', pngBytes(100));
  const mirror = new HttpResultMirror(store, urls);
  try {
    const image = { url: `${base}/out/image.png` };
    const outcome = await mirror.mirror([image], defaultResultUrlCheck);
    expect(outcome.images).toStrictEqual([image]);
    expect(outcome.storedUrls).toStrictEqual([]);
    expect(outcome.failures).toStrictEqual([{ index: 0, reason: '127.0.0.1 is a loopback address; result images are only mirrored from public addresses' }]);
    expect(hits).toStrictEqual([]);
  } finally {
    mirror.close();
  }
});

test('a name that resolves to loopback is refused at connect time (the text check cannot see it)', async () => {
  serve('/out/image.png', pngBytes(100));
  const port = (server.address() as AddressInfo).port;
  // Only the literal 127.0.0.1 is allowed; `localhost` is judged by what it resolves to.
  const mirror = new HttpResultMirror(store, urls, { allowHosts: ['127.0.0.1'], resolveAll: (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
  try {
    const outcome = await mirror.mirror([{ url: `http://localhost:${port}/out/image.png` }], defaultResultUrlCheck);
    expect(outcome.storedUrls).toStrictEqual([]);
    expect(outcome.failures).toStrictEqual([{ index: 0, reason: 'localhost resolves to 127.0.0.1, a loopback address; result images are only mirrored from public addresses' }]);
    expect(hits).toStrictEqual([]);
  } finally {
    mirror.close();
  }
});

test('a redirect is not followed, an oversized image and a non-image are not stored: each keeps the upstream URL, the good one is copied', async () => {
  const good = pngBytes(2048);
  serve('/good.png', good);
  routes.set('/moved.png', (_req, res) => res.writeHead(302, { location: `${base}/good.png` }).end());
  serve('/big.png', pngBytes(4096));
  serve('/page.html', Buffer.from('<html>not an image</html>'), 'text/html');
  const mirror = new HttpResultMirror(store, urls, { allowHosts: ['127.0.0.1'], maxBytes: 3000 });
  try {
    const images = ['/moved.png', '/big.png', '/page.html', '/good.png'].map((p) => ({ url: `${base}${p}` }));
    const outcome = await mirror.mirror(images, defaultResultUrlCheck);
    expect(outcome.failures).toStrictEqual([
      { index: 0, reason: `${base} answered HTTP 302 (redirects are not followed)` },
      { index: 1, reason: `the image from ${base} is 4096 bytes; the limit is 3000 bytes` },
      { index: 2, reason: 'The upstream answered an image of media type "text/html"; the bridge stores image/png, image/jpeg, image/webp, image/gif, image/avif.' },
    ]);
    expect(outcome.images.slice(0, 3)).toStrictEqual(images.slice(0, 3));
    expect(outcome.storedUrls).toHaveLength(1);
    expect(outcome.images[3]?.url).toBe(outcome.storedUrls[0]);
    expect((await readBack(outcome.storedUrls[0] as string)).equals(good)).toBe(true);
    // The redirect target was not fetched on the redirect's account.
    expect(hits).toStrictEqual(['/moved.png', '/big.png', '/page.html', '/good.png']);
  } finally {
    mirror.close();
  }
});

test('an answer that never ends is cut at the time limit', async () => {
  routes.set('/slow.png', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(pngBytes(16));
  });
  const mirror = new HttpResultMirror(store, urls, { allowHosts: ['127.0.0.1'], timeoutMs: 300 });
  try {
    const outcome = await mirror.mirror([{ url: `${base}/slow.png` }], defaultResultUrlCheck);
    expect(outcome.failures).toStrictEqual([{ index: 0, reason: `no complete image from ${base} within 300 ms` }]);
    expect(outcome.storedUrls).toStrictEqual([]);
  } finally {
    mirror.close();
  }
});

test('a URL the result-URL policy refuses is never fetched, and a path (the bridge\'s own URL) is left alone', async () => {
  serve('/out/image.png', pngBytes(100));
  const mirror = new HttpResultMirror(store, urls, { allowHosts: ['127.0.0.1'] });
  try {
    const images = [{ url: `${base}/out/image.png` }, { url: '/v1/images/blobs/abc.png' }];
    const outcome = await mirror.mirror(images, createResultUrlCheck({ mode: 'https', allowHosts: [] }));
    expect(outcome).toStrictEqual({ images, storedUrls: [], failures: [] });
    expect(hits).toStrictEqual([]);
  } finally {
    mirror.close();
  }
});
