/**
 * Idempotency-Key weak spots (issue 10, docs/reliability.md "hostile clients"): a key left pending by a submit
 * that died after storing its task, `"seed": null` against an absent seed, and the pending lifetime. A real
 * gateway on 127.0.0.1:0 in front of a nock'ed hub.
 */
import nock from 'nock';
import { NORMALIZE_OPTIONS, TASK_OPTIONS, TASK_STORE } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { normalizePlatformRequest, type NormalizeOptions } from '../../src/intent/normalize';
import { idempotencyStoreKey, intentFingerprint } from '../../src/security/idempotency';
import type { TaskStore } from '../../src/tasks/ports';
import type { TaskOptions } from '../../src/tasks/task-options';
import { auth, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const NANO = { model: 'NanoBanana', prompt: 'a fox in the snow' };
const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };

let gw: Gateway;
beforeAll(async () => {
  gw = await start(hubConfig());
});
afterAll(() => gw.close());
afterEach(() => nock.cleanAll());

const tasks = (): string => `${gw.url}/v1/images/tasks`;

it('a key left pending by a submit that stored its task and died answers that task at once (201, no upstream call)', async () => {
  nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
  const created = await postJson(tasks(), NANO, auth(KEY_A));
  expect(created.status).toBe(201);
  const taskId = (created.body as { task_id: string }).task_id;
  // What the crashed instance left: the pending reservation of the task it stored.
  const store = gw.container.resolve<TaskStore>(TASK_STORE);
  const intent = normalizePlatformRequest({ body: NANO }, gw.container.resolve<NormalizeOptions>(NORMALIZE_OPTIONS));
  const key = idempotencyStoreKey('alice', 'order-crashed-1');
  expect(await store.reserveIdempotencyKey(key, { fingerprint: intentFingerprint(intent), taskId, state: 'pending' }, 60_000)).toStrictEqual({ outcome: 'reserved' });

  const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
  const retry = await postJson(tasks(), NANO, { ...auth(KEY_A), 'idempotency-key': 'order-crashed-1' });
  expect(retry.status).toBe(201);
  expect((retry.body as { task_id: string }).task_id).toBe(taskId);
  expect(untouched.isDone()).toBe(false);
  // The key is completed now: the next retry is a plain replay.
  const again = await postJson(tasks(), NANO, { ...auth(KEY_A), 'idempotency-key': 'order-crashed-1' });
  expect((again.body as { task_id: string }).task_id).toBe(taskId);
});

it('"seed": null is the same request as no seed: the same task, one upstream job', async () => {
  const scope = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
  const first = await postJson(tasks(), NANO, { ...auth(KEY_A), 'idempotency-key': 'order-seed-null' });
  const second = await postJson(tasks(), { ...NANO, seed: null }, { ...auth(KEY_A), 'idempotency-key': 'order-seed-null' });
  const reordered = await postJson(tasks(), { prompt: NANO.prompt, n: 1, model: NANO.model }, { ...auth(KEY_A), 'idempotency-key': 'order-seed-null' });
  scope.done();
  expect(first.status).toBe(201);
  expect(second.status).toBe(201);
  expect(reordered.status).toBe(201);
  expect((second.body as { task_id: string }).task_id).toBe((first.body as { task_id: string }).task_id);
  expect((reordered.body as { task_id: string }).task_id).toBe((first.body as { task_id: string }).task_id);
});

it('a different seed under the same key is still a conflict', async () => {
  nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
  expect((await postJson(tasks(), { ...NANO, seed: 1 }, { ...auth(KEY_A), 'idempotency-key': 'order-seed-1' })).status).toBe(201);
  const other = await postJson(tasks(), { ...NANO, seed: 2 }, { ...auth(KEY_A), 'idempotency-key': 'order-seed-1' });
  expect(other.status).toBe(409);
  expect(other.body).toMatchObject({ code: 'idempotency_conflict', param: 'Idempotency-Key' });
});

it('a pending key lives as long as a submit can run (connect + submit timeout per channel, plus 30 s), not 5 minutes', () => {
  expect(gw.container.resolve<TaskOptions>(TASK_OPTIONS).idempotencyPendingTtlMs).toBe(5_000 + 30_000 + 30_000);
});
