/**
 * The TaskService behaviour suite, run on the memory store and on Redis (task-service.*.test.ts).
 * The hub is nock'ed at https://hub.test (channel hub-1) and https://hub-b.test (channel hub-2), and the real
 * HttpUpstreamClient sends the requests.
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import nock from 'nock';
import type { Channel } from '../../src/routing/channels';
import type { BridgeError } from '../../src/platform/errors';
import type { PlatformTask } from '../../src/platform/task';
import type { Principal, TaskStore } from '../../src/tasks/ports';
import type { TaskRecord } from '../../src/tasks/task-record';
import { sampleRecord } from '../support/task-records';
import { FakeClock } from '../support/fake-clock';
import { buildHubServiceInstance, useServiceSuiteLifecycle, type HubServiceInstance } from '../support/hub-service-instance';

const HUB = 'https://hub.test';
const HUB_B = 'https://hub-b.test';
const KEY_1 = 'sk-hub-one-SECRET-1111';
const KEY_2 = 'sk-hub-two-SECRET-2222';
const CHANNELS: Channel[] = [
  { id: 'hub-1', adapterId: 'hub', baseUrl: HUB, apiKey: KEY_1, priority: 10, weight: 1 },
  { id: 'hub-2', adapterId: 'hub', baseUrl: HUB_B, apiKey: KEY_2, priority: 5, weight: 1 },
];
/** Short enough that the Redis variant can let it pass in real time. */
const INTERVAL = 250;
const DEADLINE = 15 * 60 * 1000;
const ALICE: Principal = { owner: 'alice', keyLabel: 'key#1' };
const BOB: Principal = { owner: 'bob', keyLabel: 'key#2' };
const CTX = { requestId: 'req-1' };

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/hub', `${name}.json`), 'utf8')) as Record<string, unknown>;
}
const SUBMIT_ACCEPTED = fixture('submit.accepted');
const UPSTREAM_ID = SUBMIT_ACCEPTED.task_id as string;
const POLL_PATH = `/hub/v1/tasks/${UPSTREAM_ID}`;
const QUEUED = fixture('poll.queued');
const RUNNING_60 = fixture('poll.running');
const SUCCEEDED = fixture('poll.succeeded');
const FAILED = fixture('poll.failed');
const RESULT_URL = 'https://cdn.hub.example/outputs/2026/11/25/7c1f2e9a-0.png';

/** The exact platform task of a text2image task: its result URLs on success, its error when failed. */
function textTask(taskId: string, status: PlatformTask['status'], progress: string, resultUrls: readonly string[] = [], error: PlatformTask['error'] = null): PlatformTask {
  const metadata = resultUrls.length > 0 ? { task_type: 'text2image', result_count: resultUrls.length, result_urls: [...resultUrls] } : { task_type: 'text2image', result_count: 0 };
  return { task_id: taskId, status, progress, result_url: resultUrls[0] ?? null, metadata, error } as PlatformTask;
}

const NANO_REQUEST = { model: 'NanoBanana2-1K', prompt: 'A small red cube', aspect_ratio: '9:16', output_format: 'jpeg', n: 2 };
const NANO_HUB_BODY = {
  model: 'nano-banana-2',
  input: { prompt: 'A small red cube', num_images: 2, output_format: 'jpeg', aspect_ratio: '9:16', resolution: '1K' },
};

/** One backing store, as each service instance sees it. */
export interface ServiceStoreHarness {
  /** A store view for one more service instance (same data). */
  open(clock: FakeClock): Promise<TaskStore>;
  /** Lets `ms` pass for the store's leases (Redis leases run on the server's clock). */
  sleep(ms: number): Promise<void>;
  /** Closes every view and removes test data. */
  dispose(): Promise<void>;
}


function expectBridgeError(err: unknown, code: string, httpStatus: number): BridgeError {
  const e = err as BridgeError;
  expect(e.code).toBe(code);
  expect(e.httpStatus).toBe(httpStatus);
  return e;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export function describeTaskService(describeFn: jest.Describe, name: string, makeHarness: () => Promise<ServiceStoreHarness>): void {
  describeFn(`TaskService on ${name}`, () => {
    const suite = useServiceSuiteLifecycle(makeHarness, /SECRET/);
    let clock: FakeClock;
    beforeEach(() => {
      clock = new FakeClock();
    });

    async function instance(options: { submitTimeoutMs?: number; channels?: Channel[]; weightedRouter?: boolean } = {}): Promise<HubServiceInstance> {
      const made = buildHubServiceInstance({
        ...options,
        store: await suite.harness.open(clock),
        clock,
        channels: options.channels ?? CHANNELS,
        task: { pollIntervalMs: INTERVAL, deadlineMs: DEADLINE },
        seed: suite.instances.length + 1,
      });
      suite.instances.push(made);
      return made;
    }

    /** Lets one poll interval pass, for the service (fake clock) and for the store's leases. */
    async function nextInterval(): Promise<void> {
      clock.advance(INTERVAL);
      await suite.harness.sleep(INTERVAL + 5);
    }

    function submitScope(body: unknown = NANO_HUB_BODY, reply: unknown = SUBMIT_ACCEPTED) {
      return nock(HUB, { reqheaders: { authorization: `Bearer ${KEY_1}` } })
        .post('/hub/v1/tasks', (b: unknown) => JSON.stringify(b) === JSON.stringify(body))
        .reply(202, reply as nock.Body);
    }

    async function submitted(inst: HubServiceInstance, principal = ALICE): Promise<PlatformTask> {
      const scope = submitScope();
      const task = await inst.service.submit(principal, { body: NANO_REQUEST }, CTX);
      scope.done();
      return task;
    }

    function pollScope(...replies: Array<Record<string, unknown>>) {
      const scope = nock(HUB, { reqheaders: { authorization: `Bearer ${KEY_1}` } });
      for (const reply of replies) scope.get(POLL_PATH).reply(200, reply);
      return scope;
    }


    describe('submit', () => {
      test('sends the exact hub body with the channel key and answers the queued platform task', async () => {
        const a = await instance();
        let seenBody: unknown;
        const scope = nock(HUB, { reqheaders: { authorization: `Bearer ${KEY_1}`, 'content-type': 'application/json' } })
          .post('/hub/v1/tasks', (b: unknown) => {
            seenBody = b;
            return true;
          })
          .reply(202, SUBMIT_ACCEPTED);
        const task = await a.service.submit(ALICE, { body: NANO_REQUEST }, CTX);
        scope.done();
        expect(seenBody).toStrictEqual(NANO_HUB_BODY);
        expect(task.task_id).toMatch(/^task_[A-Za-z0-9_-]{22}$/);
        expect(task).toStrictEqual(textTask(task.task_id, 'queued', '0%'));
        const record = (await a.store.get(task.task_id)) as TaskRecord;
        // The sample is a queued NanoBanana2-1K record for n=2 on hub: what this submit stores.
        expect(record).toStrictEqual(
          sampleRecord({ id: task.task_id, owner: 'alice', channelId: 'hub-1', upstreamRef: { id: UPSTREAM_ID }, billing: { requestedImages: 2 }, warnings: [], metadata: {}, createdAt: clock.now(), updatedAt: clock.now() }),
        );
        expect(a.router.successes).toStrictEqual(['hub-1']);
      });

      test('task ids are task_ + 128 random bits from the Random port, different per task', async () => {
        const a = await instance();
        const first = await submitted(a);
        const second = await submitted(a);
        expect(first.task_id).not.toBe(second.task_id);
        expect(Buffer.from(first.task_id.slice(5), 'base64url')).toHaveLength(16);
      });

      test('adapter warnings and metadata reach the task (gpt-image-2 1920x1080 snapped to 1920x1088)', async () => {
        const a = await instance();
        const body = { model: 'gpt-image-2', input: { prompt: 'p', num_images: 1, output_format: 'png', image_size: { width: 1920, height: 1088 }, quality: 'medium' } };
        const scope = submitScope(body);
        const task = await a.service.submit(ALICE, { body: { model: 'gpt-image-2', prompt: 'p', size: '1920x1080' } }, CTX);
        scope.done();
        expect(task.metadata).toStrictEqual({
          task_type: 'text2image',
          result_count: 0,
          requested_size: '1920x1080',
          actual_size: '1920x1088',
          warnings: [{ code: 'size_adjusted', param: 'size', message: 'The upstream needs edges that are multiples of 16; size 1920x1080 was generated as 1920x1088.' }],
        });
      });

      test('an invalid request is rejected before any upstream call', async () => {
        const a = await instance();
        const err = await rejection(a.service.submit(ALICE, { body: { model: 'NanoBanana2-1K', prompt: 'p', aspectRatio: '1:1' } }, CTX));
        expectBridgeError(err, 'unknown_parameter', 400);
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.metrics.upstreamCalls).toStrictEqual([]);
      });

      test('failover: channel 1 answers 503, channel 2 accepts; the task runs on channel 2', async () => {
        const a = await instance();
        const one = nock(HUB).post('/hub/v1/tasks').reply(503, { error: 'overloaded' });
        const two = nock(HUB_B, { reqheaders: { authorization: `Bearer ${KEY_2}` } })
          .post('/hub/v1/tasks', (b: unknown) => JSON.stringify(b) === JSON.stringify(NANO_HUB_BODY))
          .reply(202, SUBMIT_ACCEPTED);
        const task = await a.service.submit(ALICE, { body: NANO_REQUEST }, CTX);
        one.done();
        two.done();
        expect(a.router.failures).toStrictEqual(['hub-1']);
        expect(a.router.successes).toStrictEqual(['hub-2']);
        const record = (await a.store.get(task.task_id)) as TaskRecord;
        expect(record.channelId).toBe('hub-2');
        expect(record.id).toBe(task.task_id);
        // Polls go back to the channel that accepted the job.
        const poll = nock(HUB_B, { reqheaders: { authorization: `Bearer ${KEY_2}` } }).get(POLL_PATH).reply(200, RUNNING_60);
        expect((await a.service.get(ALICE, task.task_id, CTX)).progress).toBe('60%');
        poll.done();
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('failover with the real WeightedChannelRouter: the higher-priority channel answers 503, the other one runs the task', async () => {
        const a = await instance({ weightedRouter: true });
        const one = nock(HUB).post('/hub/v1/tasks').reply(503, { error: 'overloaded' });
        const two = nock(HUB_B, { reqheaders: { authorization: `Bearer ${KEY_2}` } }).post('/hub/v1/tasks').reply(202, SUBMIT_ACCEPTED);
        const task = await a.service.submit(ALICE, { body: NANO_REQUEST }, CTX);
        one.done();
        two.done();
        expect(((await a.store.get(task.task_id)) as TaskRecord).channelId).toBe('hub-2');
        expect(a.metrics.upstreamCalls.map((c) => `${c.channel} ${c.outcome}`)).toStrictEqual(['hub-1 server_error', 'hub-2 ok']);
      });

      test('failover also when channel 1 refuses the connection', async () => {
        const port = await closedPort();
        const first = CHANNELS[0] as Channel;
        const a = await instance({ channels: [{ ...first, baseUrl: `http://127.0.0.1:${port}` }, ...CHANNELS.slice(1)] });
        const two = nock(HUB_B).post('/hub/v1/tasks').reply(202, SUBMIT_ACCEPTED);
        const task = await a.service.submit(ALICE, { body: NANO_REQUEST }, CTX);
        two.done();
        expect(((await a.store.get(task.task_id)) as TaskRecord).channelId).toBe('hub-2');
        expect(a.metrics.upstreamCalls.map((c) => `${c.channel} ${c.outcome}`)).toStrictEqual(['hub-1 connection_refused', 'hub-2 ok']);
      });

      test('channel 1 answers 422: 400 upstream_rejected, channel 2 is never called', async () => {
        const a = await instance();
        const one = nock(HUB).post('/hub/v1/tasks').reply(422, { detail: 'prompt is not allowed' });
        const err = await rejection(a.service.submit(ALICE, { body: NANO_REQUEST }, CTX));
        one.done();
        expectBridgeError(err, 'upstream_rejected', 400);
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.router.failures).toStrictEqual([]);
      });

      test('an accepted-but-slow submit (timeout) is neither retried nor failed over: 504 upstream_timeout', async () => {
        const a = await instance({ submitTimeoutMs: 100 });
        const one = nock(HUB).post('/hub/v1/tasks').delay(400).reply(202, SUBMIT_ACCEPTED);
        const err = await rejection(a.service.submit(ALICE, { body: NANO_REQUEST }, CTX));
        one.done();
        expectBridgeError(err, 'upstream_timeout', 504);
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.metrics.upstreamCalls).toStrictEqual([{ channel: 'hub-1', operation: 'submit', outcome: 'timeout' }]);
      });

      test('every channel fails: the last error is thrown', async () => {
        const a = await instance();
        const one = nock(HUB).post('/hub/v1/tasks').reply(503, {});
        const two = nock(HUB_B).post('/hub/v1/tasks').reply(429, {});
        const err = await rejection(a.service.submit(ALICE, { body: NANO_REQUEST }, CTX));
        one.done();
        two.done();
        expectBridgeError(err, 'upstream_unavailable', 503);
        expect(a.router.failures).toStrictEqual(['hub-1', 'hub-2']);
      });
    });

    describe('query', () => {
      test('status moves queued -> processing -> succeeded with the exact platform tasks', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(QUEUED, RUNNING_60, SUCCEEDED);
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(textTask(task_id, 'queued', '0%'));
        await nextInterval();
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(textTask(task_id, 'processing', '60%'));
        await nextInterval();
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(textTask(task_id, 'succeeded', '100%', [RESULT_URL]));
        scope.done();
        expect(a.metrics.terminals).toStrictEqual([{ model: 'NanoBanana2-1K', status: 'succeeded' }]);
      });

      test('progress never decreases and status never moves back', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(RUNNING_60, { ...RUNNING_60, progress: 30 }, { ...QUEUED, progress: 10 });
        const seen: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          const t = await a.service.get(ALICE, task_id, CTX);
          seen.push(`${t.status} ${t.progress}`);
          await nextInterval();
        }
        scope.done();
        expect(seen).toStrictEqual(['processing 60%', 'processing 60%', 'processing 60%']);
      });

      test('a terminal task is answered from the store and never polled again', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(SUCCEEDED);
        const done = await a.service.get(ALICE, task_id, CTX);
        scope.done();
        const calls = a.metrics.upstreamCalls.length;
        for (let i = 0; i < 3; i += 1) {
          await nextInterval();
          expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(done);
        }
        expect(a.metrics.upstreamCalls).toHaveLength(calls);
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('50 concurrent queries make exactly one upstream poll', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = nock(HUB).get(POLL_PATH).delay(30).reply(200, RUNNING_60);
        const answers = await Promise.all(Array.from({ length: 50 }, () => a.service.get(ALICE, task_id, CTX)));
        scope.done();
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.metrics.upstreamCalls.filter((c) => c.operation === 'poll')).toHaveLength(1);
        expect(new Set(answers.map((t) => `${t.status} ${t.progress}`))).toStrictEqual(new Set(['processing 60%']));
      });

      test('the poll interval is respected: no poll before it has passed, one after', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const first = pollScope(QUEUED);
        await a.service.get(ALICE, task_id, CTX);
        first.done();
        clock.advance(INTERVAL - 1);
        await suite.harness.sleep(INTERVAL - 1);
        expect((await a.service.get(ALICE, task_id, CTX)).status).toBe('queued');
        expect(suite.unmatched).toStrictEqual([]);
        const second = pollScope(RUNNING_60);
        clock.advance(1);
        await suite.harness.sleep(10);
        expect((await a.service.get(ALICE, task_id, CTX)).progress).toBe('60%');
        second.done();
        expect(a.metrics.upstreamCalls.filter((c) => c.operation === 'poll')).toHaveLength(2);
      });

      test('two service instances on one store: concurrent queries make one poll between them', async () => {
        const a = await instance();
        const b = await instance();
        const { task_id } = await submitted(a);
        const scope = nock(HUB).get(POLL_PATH).delay(30).reply(200, RUNNING_60);
        const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).service.get(ALICE, task_id, CTX)));
        scope.done();
        expect(suite.unmatched).toStrictEqual([]);
        const polls = [...a.metrics.upstreamCalls, ...b.metrics.upstreamCalls].filter((c) => c.operation === 'poll');
        expect(polls).toHaveLength(1);
        // Callers that did not poll answer from the stored record: never ahead of the upstream, never behind the store.
        for (const t of answers) expect(['queued 0%', 'processing 60%']).toContain(`${t.status} ${t.progress}`);
        expect((await b.service.get(ALICE, task_id, CTX)).progress).toBe('60%');
      });

      test('a poll failure answers the stored task and logs it; the next interval polls again', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = nock(HUB).get(POLL_PATH).reply(200, RUNNING_60).get(POLL_PATH).reply(503, { error: 'busy' }).get(POLL_PATH).reply(200, fixture('poll.malformed'));
        await a.service.get(ALICE, task_id, CTX);
        await nextInterval();
        expect((await a.service.get(ALICE, task_id, CTX)).progress).toBe('60%');
        await nextInterval();
        expect((await a.service.get(ALICE, task_id, CTX)).progress).toBe('60%');
        scope.done();
        const warnings = a.logger.at('warn').filter((l) => l.fields.event === 'poll_failed');
        expect(warnings.map((w) => (w.fields.error as { kind: string }).kind)).toStrictEqual(['server_error', 'malformed']);
        expect(warnings[0]?.fields.task_id).toBe(task_id);
        expect(warnings[0]?.fields.request_id).toBe('req-1');
        expect(a.router.failures).toStrictEqual(['hub-1']);
      });

      test('an upstream failure becomes a failed task with the upstream reason and costs nothing', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(FAILED);
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(textTask(task_id, 'failed', '100%', [], { code: 'content_policy_violation', message: 'The request was rejected by the safety filter.' }));
        scope.done();
        expect(a.sink.events.map((e) => [e.status, e.cost])).toStrictEqual([['failed', 0]]);
      });

      test('past the deadline a task fails with upstream_timeout, costs 0 and is never polled again', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        clock.advance(DEADLINE);
        const scope = pollScope(RUNNING_60);
        const expected = textTask(task_id, 'failed', '100%', [], { code: 'upstream_timeout', message: 'The upstream did not finish the task within 15 minutes.' });
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(expected);
        scope.done();
        await nextInterval();
        expect(await a.service.get(ALICE, task_id, CTX)).toStrictEqual(expected);
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.sink.events).toStrictEqual([
          { task_id, owner: 'alice', model: 'NanoBanana2-1K', requested_n: 2, result_count: 0, status: 'failed', cost: 0, currency: 'USD', channel: 'hub-1' },
        ]);
        expect(a.metrics.terminals).toStrictEqual([{ model: 'NanoBanana2-1K', status: 'failed' }]);
      });

      test('past the deadline a query with no poll due fails the task without calling the upstream', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(RUNNING_60);
        clock.advance(DEADLINE - 1);
        expect((await a.service.get(ALICE, task_id, CTX)).status).toBe('processing');
        scope.done();
        // 2 ms later: past the deadline, and the last poll is 2 ms old (not due). No upstream call is allowed.
        clock.advance(2);
        const t = await a.service.get(ALICE, task_id, CTX);
        expect([t.status, t.error?.code]).toStrictEqual(['failed', 'upstream_timeout']);
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.sink.events.map((e) => [e.status, e.cost])).toStrictEqual([['failed', 0]]);
      });

      test('past the deadline a failing poll does not save the task: it fails with upstream_timeout', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = nock(HUB).get(POLL_PATH).reply(200, RUNNING_60).get(POLL_PATH).reply(502, {});
        await a.service.get(ALICE, task_id, CTX);
        clock.advance(DEADLINE);
        await suite.harness.sleep(INTERVAL + 5);
        const t = await a.service.get(ALICE, task_id, CTX);
        scope.done();
        expect([t.status, t.error?.code]).toStrictEqual(['failed', 'upstream_timeout']);
      });

      test('another owner, an unknown id and a malformed id all get the same task_not_found', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const errors = await Promise.all([
          rejection(a.service.get(BOB, task_id, CTX)),
          rejection(a.service.get(ALICE, 'task_AAAAAAAAAAAAAAAAAAAAAAAAAAAA', CTX)),
          rejection(a.service.get(ALICE, '../../etc/passwd', CTX)),
          rejection(a.service.get(ALICE, '', CTX)),
        ]);
        const envelopes = errors.map((e) => expectBridgeError(e, 'task_not_found', 404).toEnvelope());
        expect(new Set(envelopes.map((e) => JSON.stringify(e))).size).toBe(1);
        expect(envelopes[0]).toStrictEqual({
          code: 'task_not_found',
          message: 'No task with this id exists for this API key. Check the task_id returned by the submit call.',
          param: 'task_id',
          data: null,
        });
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.metrics.upstreamCalls.filter((c) => c.operation === 'poll')).toStrictEqual([]);
      });
    });

    describe('usage', () => {
      test('settles exactly once with the exact usage event (Nano: unit price x images returned)', async () => {
        const a = await instance();
        const { task_id } = await submitted(a);
        const scope = pollScope(SUCCEEDED);
        await Promise.all(Array.from({ length: 10 }, () => a.service.get(ALICE, task_id, CTX)));
        scope.done();
        for (let i = 0; i < 3; i += 1) await a.service.get(ALICE, task_id, CTX);
        // n was 2 but the hub returned one image: one image is billed.
        expect(a.sink.events).toStrictEqual([
          { task_id, owner: 'alice', model: 'NanoBanana2-1K', requested_n: 2, result_count: 1, status: 'succeeded', cost: 0.067, currency: 'USD', channel: 'hub-1' },
        ]);
        expect(a.metrics.settlements).toStrictEqual([{ model: 'NanoBanana2-1K', status: 'succeeded', cost: 0.067 }]);
        expect(((await a.store.get(task_id)) as TaskRecord).usageSettled).toBe(true);
      });

      test('gpt-image-2 costs price[tier][quality] x images returned', async () => {
        const a = await instance();
        const body = { model: 'gpt-image-2', input: { prompt: 'p', num_images: 3, output_format: 'png', image_size: { width: 2048, height: 1152 }, quality: 'high' } };
        const sub = submitScope(body);
        const { task_id } = await a.service.submit(ALICE, { body: { model: 'gpt-image-2', prompt: 'p', size: '2048x1152', quality: 'high', n: 3 } }, CTX);
        sub.done();
        const poll = nock(HUB).get(POLL_PATH).reply(200, { ...fixture('poll.succeeded-multiple'), task_id: UPSTREAM_ID });
        const done = await a.service.get(ALICE, task_id, CTX);
        poll.done();
        expect(done.metadata.result_count).toBe(3);
        expect(a.sink.events).toStrictEqual([
          { task_id, owner: 'alice', model: 'gpt-image-2', tier: '2K', quality: 'high', requested_n: 3, result_count: 3, status: 'succeeded', cost: 1.002, currency: 'USD', channel: 'hub-1' },
        ]);
      });

      test('two instances racing on a terminal, unsettled record (crash before settlement): one usage event in total', async () => {
        const a = await instance();
        const b = await instance();
        const { task_id } = await submitted(a);
        const record = (await a.store.get(task_id)) as TaskRecord;
        await a.store.update({ ...record, status: 'succeeded', progress: 100, resultUrls: [RESULT_URL, RESULT_URL], updatedAt: clock.now() });
        await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? b : a).service.get(ALICE, task_id, CTX)));
        const events = [...a.sink.events, ...b.sink.events];
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ task_id, result_count: 2, cost: 0.134, status: 'succeeded' });
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('two instances polling a task to its end: one usage event in total', async () => {
        const a = await instance();
        const b = await instance();
        const { task_id } = await submitted(a);
        const scope = nock(HUB).get(POLL_PATH).delay(20).reply(200, SUCCEEDED);
        await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).service.get(ALICE, task_id, CTX)));
        scope.done();
        await nextInterval();
        await Promise.all([a.service.get(ALICE, task_id, CTX), b.service.get(ALICE, task_id, CTX)]);
        expect([...a.sink.events, ...b.sink.events]).toHaveLength(1);
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('a failing usage sink is logged with the whole event and does not fail the query', async () => {
        const a = await instance();
        a.sink.record = async () => {
          throw new Error('billing database down');
        };
        const { task_id } = await submitted(a);
        const scope = pollScope(SUCCEEDED);
        expect((await a.service.get(ALICE, task_id, CTX)).status).toBe('succeeded');
        scope.done();
        const line = a.logger.at('error').find((l) => l.fields.event === 'usage_settlement_failed');
        expect(line?.fields.usage).toMatchObject({ task_id, cost: 0.067 });
      });
    });
  });
}
