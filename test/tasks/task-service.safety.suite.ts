/**
 * TaskService idempotency and abuse limits, run on the memory store (fake clock) and on Redis (real time,
 * two instances on one Redis): task-service.safety.*.test.ts. The hub is nock'ed at https://hub.test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import type { Channel } from '../../src/routing/channels';
import type { BridgeError } from '../../src/platform/errors';
import type { SubmitLimits } from '../../src/security/submit-limiter';
import type { SubmitLimiter } from '../../src/security/ports';
import type { Principal, TaskStore } from '../../src/tasks/ports';
import type { TaskRecord } from '../../src/tasks/task-record';
import type { TaskServiceOptions } from '../../src/tasks/task-service';
import { FakeClock } from '../support/fake-clock';
import { buildHubServiceInstance, useServiceSuiteLifecycle, type HubServiceInstance } from '../support/hub-service-instance';

const HUB = 'https://hub.test';
const CHANNELS: Channel[] = [{ id: 'hub-1', adapterId: 'hub', baseUrl: HUB, apiKey: 'sk-hub-SECRET-1', priority: 10, weight: 1 }];
const ALICE: Principal = { owner: 'alice', keyLabel: 'key#1' };
const BOB: Principal = { owner: 'bob', keyLabel: 'key#2' };
const SUBMIT_ACCEPTED = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/hub/submit.accepted.json'), 'utf8')) as Record<string, unknown>;
const SUCCEEDED = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/hub/poll.succeeded.json'), 'utf8')) as Record<string, unknown>;
const POLL_PATH = `/hub/v1/tasks/${SUBMIT_ACCEPTED.task_id as string}`;
const REQUEST = { model: 'NanoBanana2-1K', prompt: 'A small red cube', aspect_ratio: '9:16', n: 2 };
const HUB_BODY = { model: 'nano-banana-2', input: { prompt: 'A small red cube', num_images: 2, output_format: 'png', aspect_ratio: '9:16', resolution: '1K' } };

/** The backing store and limiter as each service instance sees them. */
export interface SafetyHarness {
  /** A store view for one more instance (same data). */
  openStore(clock: FakeClock): Promise<TaskStore>;
  /** A limiter view for one more instance (same data). */
  openLimiter(clock: FakeClock, limits: SubmitLimits): Promise<SubmitLimiter>;
  /** Lets `ms` pass: the fake clock for memory, real time for Redis (TTLs run on the server). */
  pass(clock: FakeClock, ms: number): Promise<void>;
  /** Closes everything and removes test data. */
  dispose(): Promise<void>;
}


async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (err) {
    return err as BridgeError;
  }
  throw new Error('expected a rejection');
}

function errorOf(err: BridgeError): Record<string, unknown> {
  return { code: err.code, status: err.httpStatus, message: err.message, param: err.param, headers: err.headers };
}

export function describeTaskServiceSafety(describeFn: jest.Describe, name: string, makeHarness: () => Promise<SafetyHarness>, shortTtlMs: number): void {
  describeFn(`TaskService idempotency and limits on ${name}`, () => {
    const suite = useServiceSuiteLifecycle(makeHarness, /SECRET/);
    let clock: FakeClock;
    beforeEach(() => {
      clock = new FakeClock();
    });

    async function instance(options: { limits?: SubmitLimits; task?: TaskServiceOptions } = {}): Promise<HubServiceInstance> {
      const made = buildHubServiceInstance({
        store: await suite.harness.openStore(clock),
        clock,
        channels: CHANNELS,
        task: { pollIntervalMs: 250, deadlineMs: 15 * 60 * 1000, idempotencyPollMs: 10, ...options.task },
        seed: suite.instances.length + 1,
        ...(options.limits ? { limiter: await suite.harness.openLimiter(clock, options.limits) } : {}),
      });
      suite.instances.push(made);
      return made;
    }

    /** A hub that accepts `times` submits of HUB_BODY (after `delayMs`). */
    function hubAccepts(times = 1, delayMs = 0): nock.Scope {
      return nock(HUB)
        .post('/hub/v1/tasks', (b: unknown) => JSON.stringify(b) === JSON.stringify(HUB_BODY))
        .times(times)
        .delay(delayMs)
        .reply(202, SUBMIT_ACCEPTED);
    }

    const ctx = (idempotencyKey?: string) => ({ requestId: 'req-1', ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });


    describe('Idempotency-Key', () => {
      test('same key and body: the same task (its current state), one upstream job', async () => {
        const a = await instance();
        const scope = hubAccepts(1);
        const first = await a.service.submit(ALICE, { body: REQUEST }, ctx('key-1'));
        scope.done();
        // The task moves on; a retry answers its current state. Key order in the body does not matter.
        const record = (await a.store.get(first.task_id)) as TaskRecord;
        await a.store.update({ ...record, status: 'processing', progress: 40 });
        const reordered = { n: 2, aspect_ratio: '9:16', prompt: 'A small red cube', model: 'NanoBanana2-1K' };
        const again = await a.service.submit(ALICE, { body: reordered }, ctx('key-1'));
        expect(again).toStrictEqual({ ...first, status: 'processing', progress: '40%' });
        expect(suite.unmatched).toStrictEqual([]);
        expect(a.logger.lines.some((l) => l.fields.event === 'idempotent_replay' && l.fields.original_task_id === first.task_id)).toBe(true);
      });

      test('same key, different body: 409 idempotency_conflict naming the header, no upstream call', async () => {
        const a = await instance();
        const scope = hubAccepts(1);
        await a.service.submit(ALICE, { body: REQUEST }, ctx('key-1'));
        scope.done();
        const err = await rejection(a.service.submit(ALICE, { body: { ...REQUEST, prompt: 'A small blue cube' } }, ctx('key-1')));
        expect(errorOf(err)).toStrictEqual({
          code: 'idempotency_conflict',
          status: 409,
          message: 'This Idempotency-Key was already used with a different request body. Send a new key for a new request, or resend the original body to get its task.',
          param: 'Idempotency-Key',
          headers: undefined,
        });
        // Uploads are part of the body.
        const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
        const withUpload = await rejection(
          a.service.submit(ALICE, { body: REQUEST, uploads: [{ field: 'image', filename: 'a.png', mimeType: 'image/png', bytes: png }] }, ctx('key-1')),
        );
        expect(withUpload.code).toBe('idempotency_conflict');
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('keys are per owner, and submits without a key are never deduplicated', async () => {
        const a = await instance();
        const scope = hubAccepts(4);
        const alice = await a.service.submit(ALICE, { body: REQUEST }, ctx('shared'));
        const bob = await a.service.submit(BOB, { body: REQUEST }, ctx('shared'));
        const plain1 = await a.service.submit(ALICE, { body: REQUEST }, ctx());
        const plain2 = await a.service.submit(ALICE, { body: REQUEST }, ctx());
        scope.done();
        expect(new Set([alice.task_id, bob.task_id, plain1.task_id, plain2.task_id]).size).toBe(4);
      });

      test('two simultaneous identical submits on two instances: one upstream job, both get the same task', async () => {
        const a = await instance();
        const b = await instance();
        const scope = hubAccepts(1, 150);
        const [one, two] = await Promise.all([a.service.submit(ALICE, { body: REQUEST }, ctx('race')), b.service.submit(ALICE, { body: REQUEST }, ctx('race'))]);
        scope.done();
        expect(one).toStrictEqual(two);
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('ten simultaneous identical submits: one upstream job, one task id', async () => {
        const a = await instance();
        const b = await instance();
        const scope = hubAccepts(1, 100);
        const tasks = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).service.submit(ALICE, { body: REQUEST }, ctx('race-10'))));
        scope.done();
        expect(new Set(tasks.map((t) => t.task_id)).size).toBe(1);
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('a concurrent duplicate that waits longer than idempotencyWaitMs gets 409 "in progress" with Retry-After', async () => {
        const a = await instance();
        const b = await instance({ task: { idempotencyWaitMs: 30, idempotencyPollMs: 10 } });
        const scope = hubAccepts(1, 400);
        const winner = a.service.submit(ALICE, { body: REQUEST }, ctx('slow'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const err = await rejection(b.service.submit(ALICE, { body: REQUEST }, ctx('slow')));
        expect(errorOf(err)).toStrictEqual({
          code: 'idempotency_conflict',
          status: 409,
          message: 'A request with this Idempotency-Key is still being processed. Retry shortly with the same key and body to get its task.',
          param: 'Idempotency-Key',
          headers: { 'retry-after': '1' },
        });
        const task = await winner;
        scope.done();
        expect(await b.service.submit(ALICE, { body: REQUEST }, ctx('slow'))).toStrictEqual(task);
      });

      test('a failed submit releases its key: the retry submits again', async () => {
        const a = await instance();
        const rejected = nock(HUB).post('/hub/v1/tasks').reply(503, { error: 'overloaded' });
        expect((await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx('retry-me')))).code).toBe('upstream_error');
        rejected.done();
        const scope = hubAccepts(1);
        const task = await a.service.submit(ALICE, { body: REQUEST }, ctx('retry-me'));
        scope.done();
        expect(task.status).toBe('queued');
      });

      test('a waiting duplicate takes over when the first submit fails', async () => {
        const a = await instance();
        const b = await instance();
        const first = nock(HUB).post('/hub/v1/tasks').delay(100).reply(422, { detail: 'prompt is not allowed' });
        const second = hubAccepts(1);
        const failing = rejection(a.service.submit(ALICE, { body: REQUEST }, ctx('take-over')));
        await new Promise((resolve) => setTimeout(resolve, 30));
        const task = await b.service.submit(ALICE, { body: REQUEST }, ctx('take-over'));
        expect((await failing).code).toBe('upstream_rejected');
        first.done();
        second.done();
        expect(await a.service.submit(ALICE, { body: REQUEST }, ctx('take-over'))).toStrictEqual(task);
      });

      test('an invalid request with a key reserves nothing', async () => {
        const a = await instance();
        const err = await rejection(a.service.submit(ALICE, { body: { ...REQUEST, aspect_ratio: '7:3' } }, ctx('k')));
        expect(err.code).toBe('invalid_parameter');
        const scope = hubAccepts(1);
        await a.service.submit(ALICE, { body: REQUEST }, ctx('k'));
        scope.done();
      });

      test('keys expire after idempotencyTtlMs: the same key then starts a new task', async () => {
        const a = await instance({ task: { idempotencyTtlMs: shortTtlMs } });
        const scope = hubAccepts(2);
        const first = await a.service.submit(ALICE, { body: REQUEST }, ctx('expiring'));
        expect(await a.service.submit(ALICE, { body: REQUEST }, ctx('expiring'))).toStrictEqual(first);
        await suite.harness.pass(clock, shortTtlMs + 50);
        const second = await a.service.submit(ALICE, { body: REQUEST }, ctx('expiring'));
        scope.done();
        expect(second.task_id).not.toBe(first.task_id);
      });
    });

    describe('abuse limits', () => {
      const roomy: SubmitLimits = { ratePerMinute: 60, burst: 2, maxOpenTasks: 100, openTaskTtlMs: 3_600_000 };

      test('rate: the submit after the burst is 429 rate_limited with Retry-After, before any upstream call', async () => {
        const a = await instance({ limits: roomy });
        const scope = hubAccepts(2);
        await a.service.submit(ALICE, { body: REQUEST }, ctx());
        await a.service.submit(ALICE, { body: REQUEST }, ctx());
        scope.done();
        const err = await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx()));
        expect(errorOf(err)).toStrictEqual({
          code: 'rate_limited',
          status: 429,
          message: 'Too many submits: at most 60 per minute are accepted for this API key. Retry after 1 s.',
          param: undefined,
          headers: { 'retry-after': '1' },
        });
        expect(suite.unmatched).toStrictEqual([]);
        // Another owner is not affected.
        const bob = hubAccepts(1);
        await a.service.submit(BOB, { body: REQUEST }, ctx());
        bob.done();
      });

      test('rate limits hold across instances', async () => {
        const a = await instance({ limits: roomy });
        const b = await instance({ limits: roomy });
        const scope = hubAccepts(2);
        await a.service.submit(ALICE, { body: REQUEST }, ctx());
        await b.service.submit(ALICE, { body: REQUEST }, ctx());
        scope.done();
        expect((await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx()))).code).toBe('rate_limited');
        expect((await rejection(b.service.submit(ALICE, { body: REQUEST }, ctx()))).code).toBe('rate_limited');
        expect(suite.unmatched).toStrictEqual([]);
      });

      test('an idempotent replay takes no token (a client retrying after a lost answer is never rate-limited for it)', async () => {
        const a = await instance({ limits: { ...roomy, burst: 1 } });
        const scope = hubAccepts(1);
        const task = await a.service.submit(ALICE, { body: REQUEST }, ctx('once'));
        scope.done();
        expect(await a.service.submit(ALICE, { body: REQUEST }, ctx('once'))).toStrictEqual(task);
        const err = await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx('another')));
        expect(err.code).toBe('rate_limited');
        // The rejected key was released: it works once the bucket refills.
        await suite.harness.pass(clock, 1100);
        const later = hubAccepts(1);
        await a.service.submit(ALICE, { body: REQUEST }, ctx('another'));
        later.done();
      });

      test('open tasks: MAX reached -> 429; a task that finishes frees its slot; a failed submit takes none', async () => {
        const limits: SubmitLimits = { ratePerMinute: 6000, burst: 100, maxOpenTasks: 1, openTaskTtlMs: 3_600_000 };
        const a = await instance({ limits });
        const failed = nock(HUB).post('/hub/v1/tasks').reply(422, { detail: 'no' });
        expect((await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx()))).code).toBe('upstream_rejected');
        failed.done();
        const scope = hubAccepts(1);
        const task = await a.service.submit(ALICE, { body: REQUEST }, ctx());
        scope.done();
        const err = await rejection(a.service.submit(ALICE, { body: REQUEST }, ctx()));
        expect(errorOf(err)).toStrictEqual({
          code: 'rate_limited',
          status: 429,
          message:
            'Too many unfinished tasks: at most 1 may be queued or processing for this API key. Poll them (GET /v1/images/tasks/{task_id}) until they finish, then submit again.',
          param: undefined,
          headers: { 'retry-after': '5' },
        });
        expect(suite.unmatched).toStrictEqual([]);
        const poll = nock(HUB).get(POLL_PATH).reply(200, SUCCEEDED);
        expect((await a.service.get(ALICE, task.task_id, ctx())).status).toBe('succeeded');
        poll.done();
        const next = hubAccepts(1);
        await a.service.submit(ALICE, { body: REQUEST }, ctx());
        next.done();
      });
    });
  });
}
