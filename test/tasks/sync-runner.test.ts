/**
 * Synchronous upstreams (contract v2): the call runs in the engine (TaskService.advance), never in the POST;
 * bytes go to the BlobStore; n fans out over one-image calls; a run lost with its instance is failed and never
 * sent again. The upstream is nock'ed behind the real HTTP client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import type { DependencyContainer } from 'tsyringe';
import { BlobUrls } from '../../src/blobs/blob-urls';
import { FileSystemBlobStore } from '../../src/blobs/fs-blob-store';
import { BLOB_STORE, BLOB_URLS, RESULT_URL_CHECK, TASK_STORE, UPSTREAM_CLIENT, USAGE_SINK } from '../../src/di/tokens';
import { createResultUrlCheck } from '../../src/security/result-url-policy';
import type { Channel } from '../../src/routing/channels';
import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import { SYNC_LOST_GRACE_MS } from '../../src/tasks/sync-runner';
import type { TaskRecord } from '../../src/tasks/task-record';
import { TaskService } from '../../src/tasks/task-service';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import type { UpstreamClient } from '../../src/upstream/upstream-client';
import { readAll } from '../blobs/blob-store.contract';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { RecordingMetrics } from '../support/fake-metrics';
import { RecordingSink } from '../support/recording-sink';
import { SeqRandom } from '../support/seq-random';
import { serviceContainer } from '../support/service-container';
import { PixelSyncAdapter, pixel } from '../support/sync-adapter';

const BASE = 'https://pixelsync.test';
const channel: Channel = { id: 'ps-1', adapterId: 'pixelsync', baseUrl: BASE, apiKey: 'ps-SECRET-key', priority: 1, weight: 1 };
const alice = { owner: 'alice', keyLabel: 'k' };
const ctx = { requestId: 'r' };
const PROMPT = 'a lighthouse at dusk';

let dir: string;
const containers: DependencyContainer[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'itb-sync-'));
});
afterEach(async () => {
  nock.cleanAll();
  for (const c of containers.splice(0)) await c.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** One bridge instance; `shared` gives a second instance the first one's store, clock and blobs. */
function instance(shared?: { store: MemoryTaskStore; clock: FakeClock }, client?: UpstreamClient) {
  const clock = shared?.clock ?? new FakeClock();
  const logger = new CapturingLogger();
  const metrics = new RecordingMetrics();
  const upstream = client ?? new HttpUpstreamClient(clock, new SeqRandom(), logger, metrics, { retry: { maxAttempts: 1 }, sleep: async () => {} });
  const { c } = serviceContainer({ adapter: PixelSyncAdapter, channel, client: upstream, options: { pollIntervalMs: 1000 }, clock, logger });
  const store = shared?.store ?? new MemoryTaskStore(clock);
  const blobs = new FileSystemBlobStore({ dir });
  c.register(TASK_STORE, { useValue: store });
  c.register(UPSTREAM_CLIENT, { useValue: upstream });
  c.register(BLOB_STORE, { useValue: blobs });
  c.register(BLOB_URLS, { useValue: new BlobUrls({ baseUrl: 'https://bridge.test', ttlMs: 60_000, clock }) });
  containers.push(c);
  return { service: c.resolve(TaskService), store, clock, logger, blobs, sink: c.resolve<RecordingSink>(USAGE_SINK) };
}

/** The bytes behind a result URL of the bridge. */
async function bytesAt(blobs: FileSystemBlobStore, url: string): Promise<Buffer> {
  const key = /\/v1\/images\/blobs\/([^?]+)$/.exec(url)?.[1] ?? '';
  const blob = await blobs.get(key);
  if (!blob) throw new Error(`no blob behind ${url}`);
  return readAll(blob.body);
}

const reply = (i: number) => ({ data: [{ b64: pixel(i).toString('base64'), mime: 'image/png' }] });

test('the POST answers queued without any upstream call; the engine makes the call once (processing meanwhile), bytes go to the BlobStore', async () => {
  const { service, store, blobs, sink } = instance();
  const created = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT, aspect_ratio: '16:9' } }, ctx);
  expect(created).toMatchObject({ status: 'queued', progress: '0%', result_url: null });
  expect(nock.pendingMocks()).toStrictEqual([]);

  let duringCall: TaskRecord | undefined;
  const scope = nock(BASE, { reqheaders: { 'x-pixelsync-key': 'ps-SECRET-key', 'x-request-mode': 'sync' } })
    .post('/v1/generate', { prompt: PROMPT, n: 1, aspect_ratio: '16:9' })
    .reply(async () => {
      duringCall = await store.get(created.task_id);
      return [200, reply(0)];
    });
  const result = await service.advance(created.task_id);
  scope.done();
  expect(duringCall?.status).toBe('processing');
  expect(result.done).toBe(true);

  const task = await service.get(alice, created.task_id, ctx);
  expect(task).toMatchObject({ status: 'succeeded', progress: '100%', result_url: expect.stringMatching(/^https:\/\/bridge\.test\/v1\/images\/blobs\/[A-Za-z0-9_-]{32}\.png$/) });
  expect((await bytesAt(blobs, task.result_url as string)).equals(pixel(0))).toBe(true);
  const record = await store.get(created.task_id);
  expect(JSON.stringify(record)).not.toContain(pixel(0).toString('base64').slice(0, 40));
  expect(sink.events).toStrictEqual([expect.objectContaining({ task_id: created.task_id, status: 'succeeded', requested_n: 1, result_count: 1, upstream_calls: 1, channel: 'ps-1' })]);

  // Advancing again never sends again.
  await service.advance(created.task_id);
});

test('n=4 on a one-image-per-call upstream: 4 calls with the exact body, results in call order (not completion order), usage for 4', async () => {
  const { service, blobs, sink } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT, n: 4 } }, ctx);
  let arrival = 0;
  const scope = nock(BASE);
  for (let i = 0; i < 4; i += 1) {
    // The first call to arrive answers last: the order of the results must still be the order of the calls.
    scope.post('/v1/generate', { prompt: PROMPT, n: 1, aspect_ratio: '1:1' }).delay((3 - i) * 30).reply(() => [200, reply(arrival++)]);
  }
  await service.advance(task_id);
  scope.done();
  const task = await service.get(alice, task_id, ctx);
  const urls = task.metadata.result_urls ?? [];
  expect(urls).toHaveLength(4);
  for (const [i, url] of urls.entries()) expect((await bytesAt(blobs, url)).equals(pixel(i))).toBe(true);
  expect(task.metadata.warnings).toBeUndefined();
  expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'succeeded', requested_n: 4, result_count: 4, upstream_calls: 4 })]);
  expect(sink.events[0]?.cost).toBeCloseTo(4 * 0.039, 10);
});

test('n=4 with one call refused: the task succeeds with the 3 images in call order, a partial_result warning, and usage for the 3 returned (4 calls)', async () => {
  const { service, blobs, sink } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT, n: 4 } }, ctx);
  let arrival = 0;
  const scope = nock(BASE);
  for (let i = 0; i < 4; i += 1) {
    scope.post('/v1/generate', { prompt: PROMPT, n: 1, aspect_ratio: '1:1' }).reply(() => {
      const k = arrival++;
      return k === 2 ? [400, { error: { message: 'prompt flagged by the safety system' } }] : [200, reply(k)];
    });
  }
  await service.advance(task_id);
  scope.done();
  const task = await service.get(alice, task_id, ctx);
  expect(task.status).toBe('succeeded');
  const urls = task.metadata.result_urls ?? [];
  expect(urls).toHaveLength(3);
  const got = await Promise.all(urls.map((u) => bytesAt(blobs, u)));
  expect(got.map((b) => [0, 1, 3].findIndex((i) => pixel(i).equals(b)))).toStrictEqual([0, 1, 2]);
  expect(task.metadata.warnings).toStrictEqual([
    {
      code: 'partial_result',
      param: 'n',
      message:
        '1 of 4 upstream calls failed (first: upstream_rejected: upstream ps-1 rejected the request (HTTP 400): prompt flagged by the safety system.); the task has 3 of 4 images, and only those are charged.',
    },
  ]);
  expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'succeeded', requested_n: 4, result_count: 3, upstream_calls: 4 })]);
  expect(sink.events[0]?.cost).toBeCloseTo(3 * 0.039, 10);
});

test('every call refused (safety): the task fails with the upstream reason as upstream_rejected and costs nothing', async () => {
  const { service, sink } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT, n: 2 } }, ctx);
  const scope = nock(BASE).post('/v1/generate').times(2).reply(400, { error: { message: 'prompt flagged by the safety system' } });
  await service.advance(task_id);
  scope.done();
  const task = await service.get(alice, task_id, ctx);
  expect(task).toMatchObject({
    status: 'failed',
    result_url: null,
    error: { code: 'upstream_rejected', message: 'upstream ps-1 rejected the request (HTTP 400): prompt flagged by the safety system.' },
  });
  expect(sink.events).toStrictEqual([expect.objectContaining({ status: 'failed', result_count: 0, cost: 0, upstream_calls: 2 })]);
});

test('a 429 from the upstream (it never took the job) fails the task as upstream_unavailable when no other channel serves it', async () => {
  const { service } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT } }, ctx);
  const scope = nock(BASE).post('/v1/generate').reply(429, { error: { message: 'rate limit reached for requests' } });
  await service.advance(task_id);
  scope.done();
  expect(await service.get(alice, task_id, ctx)).toMatchObject({ status: 'failed', error: { code: 'upstream_unavailable' } });
});

test('a run lost with its instance mid-call is failed with a clear error once its time is up, and never sent again', async () => {
  const first = instance(undefined, { send: () => new Promise(() => undefined), close: async () => undefined });
  const { task_id } = await first.service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT } }, ctx);
  // Instance 1 starts the call and dies while it runs (its promise never settles).
  void first.service.advance(task_id);
  for (let i = 0; i < 50 && (await first.store.get(task_id))?.syncRun?.startedAt === undefined; i += 1) await new Promise((r) => setImmediate(r));
  const started = await first.store.get(task_id);
  expect(started?.status).toBe('processing');

  // Instance 2 shares the store; nock has no interceptor, so any upstream call would fail the test.
  const second = instance({ store: first.store, clock: first.clock });
  const unexpected: string[] = [];
  nock.emitter.on('no match', (req: { path?: string }) => unexpected.push(String(req.path)));
  expect((await second.service.advance(task_id)).record?.status).toBe('processing');
  expect(await second.service.get(alice, task_id, ctx)).toMatchObject({ status: 'processing' });

  second.clock.advance(120_000 + SYNC_LOST_GRACE_MS);
  const after = await second.service.advance(task_id);
  expect(after.record).toMatchObject({
    status: 'failed',
    error: {
      code: 'upstream_call_lost',
      message: "The bridge instance making this task's upstream call stopped before the upstream answered. The call is not sent again, because the upstream may already have charged it; submit a new task.",
    },
  });
  await second.service.advance(task_id);
  nock.emitter.removeAllListeners('no match');
  expect(unexpected).toStrictEqual([]);
  expect(second.sink.events).toStrictEqual([expect.objectContaining({ status: 'failed', cost: 0 })]);
});

test('a query never starts a synchronous run; only the engine does', async () => {
  const { service, store } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT } }, ctx);
  expect(await service.get(alice, task_id, ctx)).toMatchObject({ status: 'queued' });
  expect((await store.get(task_id))?.syncRun?.startedAt).toBeUndefined();
});

test('uploaded references wait in the BlobStore, not in the record, and are sent as data URIs by the engine', async () => {
  const { service, store } = instance();
  const upload = pixel(9);
  const dataUri = `data:image/png;base64,${upload.toString('base64')}`;
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT }, uploads: [{ field: 'image', filename: 'a.png', mimeType: 'image/png', bytes: upload }] }, ctx);
  const record = await store.get(task_id);
  expect(JSON.stringify(record)).not.toContain(upload.toString('base64').slice(0, 40));
  expect(record?.syncRun?.intent.references.map((r) => r.url)).toStrictEqual([expect.stringMatching(/^blob:[A-Za-z0-9_-]{32}\.png$/)]);
  const scope = nock(BASE).post('/v1/generate', { prompt: PROMPT, n: 1, aspect_ratio: '1:1', images: [dataUri] }).reply(200, reply(0));
  await service.advance(task_id);
  scope.done();
  expect((await service.get(alice, task_id, ctx)).status).toBe('succeeded');
});

test('URLs the bridge minted for stored images pass any result-URL policy (it judges upstreams), even path-only ones', async () => {
  const { service } = instance();
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: PROMPT } }, ctx);
  const c = containers[containers.length - 1] as DependencyContainer;
  c.register(RESULT_URL_CHECK, { useValue: createResultUrlCheck({ mode: 'allowlist', allowHosts: ['cdn.example.com'] }) });
  c.register(BLOB_URLS, { useValue: new BlobUrls({ ttlMs: 60_000, clock: new FakeClock() }) });
  const fresh = c.resolve(TaskService);
  const scope = nock(BASE).post('/v1/generate').reply(200, reply(0));
  await fresh.advance(task_id);
  scope.done();
  expect(await fresh.get(alice, task_id, ctx)).toMatchObject({ status: 'succeeded', result_url: expect.stringMatching(/^\/v1\/images\/blobs\/[A-Za-z0-9_-]{32}\.png$/) });
});
