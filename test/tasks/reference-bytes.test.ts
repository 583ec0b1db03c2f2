/**
 * Reference images fetched by the engine for upstreams that take files (src/tasks/reference-bytes.ts), against
 * a real server on loopback: exact bytes and type; the connect-time address guard (a name resolving to a
 * private address, an IP literal) refused before any request reaches the server; no redirects; the per-image
 * limit (declared and streamed); bytes that are no image; the time limit; and the intent-level helper.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { ImageIntent } from '../../src/intent/intent';
import type { ResolveAll } from '../../src/security/address-guard';
import { fetchReferenceBytes, HttpReferenceFetcher, ReferenceFetchError, type ReferenceFetcher } from '../../src/tasks/reference-bytes';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGMwTjsDAAI1AWaKkkQyAAAAAElFTkSuQmCC', 'base64');
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);

let server: http.Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    switch (req.url) {
      case '/a.png':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(PNG);
        return;
      case '/b.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg' }).end(JPEG);
        return;
      case '/moved':
        res.writeHead(302, { location: '/a.png' }).end();
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-length': '2048' }).end(Buffer.alloc(2048));
        return;
      case '/big-streamed':
        res.writeHead(200);
        res.write(PNG);
        res.end(Buffer.alloc(2048));
        return;
      case '/text':
        res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not an image</html>');
        return;
      case '/hang':
        return; // never answers
      default:
        res.writeHead(404).end('missing');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

/** A resolver that answers 127.0.0.1 for every name (what a rebinding attacker's DNS would do). */
const toLoopback: ResolveAll = (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 } as LookupAddress]);

function fetcher(mode: 'public' | 'any', allowHosts: string[] = [], timeoutMs?: number): ReferenceFetcher {
  return new HttpReferenceFetcher({ policy: { mode, allowHosts }, maxBytes: 1024, resolveAll: toLoopback, ...(timeoutMs ? { timeoutMs } : {}) });
}

async function failure(f: ReferenceFetcher, url: string): Promise<string> {
  try {
    await f.fetch(url);
  } catch (err) {
    if (err instanceof ReferenceFetchError) return err.message;
    throw err;
  } finally {
    f.close();
  }
  throw new Error('the fetch succeeded');
}

test('an allowed host: the exact bytes, typed by the bytes (not the Content-Type)', async () => {
  const f = fetcher('public', ['localhost']);
  const got = await f.fetch(`http://localhost:${port}/a.png`);
  f.close();
  expect(got.mimeType).toBe('image/png');
  expect(got.bytes.equals(PNG)).toBe(true);
});

test('a name that resolves to a private address is refused at connect time; the server sees nothing', async () => {
  expect(await failure(fetcher('public'), `http://localhost:${port}/a.png`)).toBe('localhost resolves to 127.0.0.1, a loopback address; reference images are only fetched from public addresses');
  expect(seen).toStrictEqual([]);
});

test('an IP literal of a private address is refused before the request', async () => {
  expect(await failure(fetcher('public'), `http://127.0.0.1:${port}/a.png`)).toBe('127.0.0.1 is a loopback address; reference images are only fetched from public addresses');
  expect(seen).toStrictEqual([]);
});

test('with REFERENCE_URL_POLICY any the operator chose every host: no guard', async () => {
  const f = fetcher('any');
  const got = await f.fetch(`http://127.0.0.1:${port}/b.jpg`);
  f.close();
  expect({ mimeType: got.mimeType, same: got.bytes.equals(JPEG) }).toStrictEqual({ mimeType: 'image/jpeg', same: true });
});

test('a redirect is not followed', async () => {
  expect(await failure(fetcher('any'), `http://127.0.0.1:${port}/moved`)).toBe(`http://127.0.0.1:${port} answered HTTP 302 (redirects are not followed)`);
  expect(seen).toStrictEqual(['/moved']);
});

test('an error status fails the fetch', async () => {
  expect(await failure(fetcher('any'), `http://127.0.0.1:${port}/nothing-here.png`)).toBe(`http://127.0.0.1:${port} answered HTTP 404`);
});

test('more than the per-image limit: refused by its Content-Length, or once the streamed bytes pass it', async () => {
  expect(await failure(fetcher('any'), `http://127.0.0.1:${port}/big-declared`)).toBe(`the image from http://127.0.0.1:${port} is 2048 bytes; the limit is 1024 bytes`);
  expect(await failure(fetcher('any'), `http://127.0.0.1:${port}/big-streamed`)).toBe(`the image from http://127.0.0.1:${port} is over the limit of 1024 bytes`);
});

test('bytes that are no image are refused whatever the Content-Type says', async () => {
  expect(await failure(fetcher('any'), `http://127.0.0.1:${port}/text`)).toBe('the answer is not a PNG, JPEG, WebP or GIF image');
});

test('a server that never answers is given up after the time limit', async () => {
  expect(await failure(fetcher('any', [], 150), `http://127.0.0.1:${port}/hang`)).toBe(`no complete image from http://127.0.0.1:${port} within 150 ms`);
});

test('a scheme other than http(s) is refused', async () => {
  expect(await failure(fetcher('any'), 'ftp://example.com/a.png')).toBe('scheme ftp: is not http or https');
});

describe('fetchReferenceBytes (the intent the adapter builds from)', () => {
  const intent = (urls: string[]): ImageIntent =>
    ({
      platformModel: 'gpt-image-2',
      family: 'gpt-image-2',
      taskType: 'image2image',
      prompt: 'p',
      references: urls.map((url) => ({ source: url.startsWith('data:') ? 'upload' : 'url', url })),
      count: 1,
      format: 'png',
      geometry: { kind: 'size', width: 1024, height: 1024, tier: '1K' },
      quality: 'medium',
      warnings: [],
      billing: { tier: '1K', quality: 'medium', requestedImages: 1 },
    }) as ImageIntent;

  test('every URL becomes a data: URI, in order; data: URIs are kept as they are', async () => {
    const f = fetcher('any');
    const data = `data:image/png;base64,${PNG.toString('base64')}`;
    const out = await fetchReferenceBytes(intent([`http://127.0.0.1:${port}/b.jpg`, data, `http://127.0.0.1:${port}/a.png`]), f);
    f.close();
    expect(out.references).toStrictEqual([
      { source: 'url', url: `data:image/jpeg;base64,${JPEG.toString('base64')}` },
      { source: 'upload', url: data },
      { source: 'url', url: `data:image/png;base64,${PNG.toString('base64')}` },
    ]);
  });

  test('a failure names the reference by position and URL, without its query (signed URLs carry secrets there)', async () => {
    const f = fetcher('any');
    await expect(fetchReferenceBytes(intent([`http://127.0.0.1:${port}/a.png`, `http://127.0.0.1:${port}/gone.png?sig=secret`]), f)).rejects.toThrow(
      `Reference image 2 could not be fetched for the upstream, which takes the images themselves (http://127.0.0.1:${port} answered HTTP 404): http://127.0.0.1:${port}/gone.png?[redacted]`,
    );
    f.close();
  });
});
