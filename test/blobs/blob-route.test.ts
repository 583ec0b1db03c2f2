/**
 * The blob route with signing off (the default): the random key is the capability. The signed case is part of
 * the BlobStore contract (test/blobs/blob-store.contract.ts), run against every store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { BlobStore } from '../../src/blobs/blob-store';
import type { BlobUrls } from '../../src/blobs/blob-urls';
import { closeAppContainer, createAppContainer } from '../../src/di/container';
import { BLOB_STORE, BLOB_URLS, LOGGER } from '../../src/di/tokens';
import { createBridgePlugin } from '../../src/http/plugin';
import { CapturingLogger } from '../support/capturing-logger';
import { hubConfig, start } from '../http/gateway-support';
import { distinctBytes } from './blob-store.contract';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'itb-blob-route-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('unsigned: served at the listen URL without an API key; HEAD, 405, 404 and the response headers', async () => {
  const gateway = await start(hubConfig({ BLOB_DIR: dir }));
  try {
    const store = gateway.container.resolve<BlobStore>(BLOB_STORE);
    const urls = gateway.container.resolve<BlobUrls>(BLOB_URLS);
    const bytes = distinctBytes(5000);
    const { key } = await store.put(bytes, 'image/jpeg');
    const url = urls.url(key);
    expect(url).toBe(`${gateway.url}/v1/images/blobs/${key}`);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Object.fromEntries(['content-type', 'content-length', 'cache-control', 'cross-origin-resource-policy', 'x-content-type-options'].map((h) => [h, res.headers.get(h)]))).toStrictEqual({
      'content-type': 'image/jpeg',
      'content-length': '5000',
      'cache-control': 'private, max-age=31536000, immutable',
      'cross-origin-resource-policy': 'cross-origin',
      'x-content-type-options': 'nosniff',
    });
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    // Query parameters mean nothing while signing is off.
    const ignored = await fetch(`${url}?exp=1&sig=x`);
    expect({ status: ignored.status, same: Buffer.from(await ignored.arrayBuffer()).equals(bytes) }).toStrictEqual({ status: 200, same: true });

    const head = await fetch(url, { method: 'HEAD' });
    expect({ status: head.status, length: head.headers.get('content-length'), body: await head.text() }).toStrictEqual({ status: 200, length: '5000', body: '' });

    const post = await fetch(url, { method: 'POST' });
    expect({ status: post.status, allow: post.headers.get('allow'), body: await post.json() }).toStrictEqual({
      status: 405,
      allow: 'GET, HEAD',
      body: { code: 'method_not_allowed', message: `POST is not allowed on /v1/images/blobs/${key}; use GET or HEAD.`, data: null },
    });

    const notFound = { code: 'blob_not_found', message: 'No image is stored under this URL (it was never stored, or it was removed).', data: null };
    for (const path of [`${'Z'.repeat(32)}.png`, '..%2F..%2Fetc%2Fpasswd', `${key}.png`]) {
      const missing = await fetch(`${gateway.url}/v1/images/blobs/${path}`);
      expect({ path, status: missing.status, body: await missing.json() }).toStrictEqual({ path, status: 404, body: notFound });
    }
  } finally {
    await gateway.close();
  }
});

test('PUBLIC_BASE_URL names the URL clients reach the bridge at', async () => {
  const gateway = await start(hubConfig({ BLOB_DIR: dir, PUBLIC_BASE_URL: 'https://images.example.com/bridge/' }));
  try {
    expect(gateway.container.resolve<BlobUrls>(BLOB_URLS).url(`${'a'.repeat(32)}.png`)).toBe(`https://images.example.com/bridge/v1/images/blobs/${'a'.repeat(32)}.png`);
  } finally {
    await gateway.close();
  }
});

test('embedded under a prefix without PUBLIC_BASE_URL: path-only URLs, said once in a warning; served under the prefix', async () => {
  const logger = new CapturingLogger();
  const container = createAppContainer(hubConfig({ BLOB_DIR: dir }), { processMetrics: false, register: (c) => c.register(LOGGER, { useValue: logger }) });
  // Sockets are closed with the host, whatever state a keep-alive client left them in (no wait on a loaded machine).
  const host = Fastify({ forceCloseConnections: true });
  await host.register(createBridgePlugin(container), { prefix: '/bridge' });
  await host.listen({ port: 0, host: '127.0.0.1' });
  try {
    const base = `http://127.0.0.1:${(host.server.address() as AddressInfo).port}`;
    const urls = container.resolve<BlobUrls>(BLOB_URLS);
    const { key } = await container.resolve<BlobStore>(BLOB_STORE).put(distinctBytes(10), 'image/png');
    expect(urls.url(key)).toBe(`/v1/images/blobs/${key}`);
    expect(logger.at('warn').map((l) => l.fields.event)).toStrictEqual(['blob_urls_path_only']);
    const served = await fetch(`${base}/bridge/v1/images/blobs/${key}`);
    expect({ status: served.status, size: (await served.arrayBuffer()).byteLength }).toStrictEqual({ status: 200, size: 10 });
  } finally {
    await host.close();
    await closeAppContainer(container);
  }
});
