/** Polls that need follow-up requests (e.g. a status URL, then a result URL), with a stub adapter. */
import nock from 'nock';
import type { Channel } from '../../src/routing/channels';
import type { ImageAdapter, PollOutcome, UpstreamResponse } from '../../src/adapter-kit/contract';
import { TaskService } from '../../src/tasks/task-service';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { RecordingMetrics } from '../support/fake-metrics';
import { SeqRandom } from '../support/seq-random';
import { serviceContainer } from '../support/service-container';

const BASE = 'https://stub.test';

/** Submit -> {id}; poll /jobs/:id -> {next} is followed, {status, urls} is a state. */
class StubAdapter implements ImageAdapter {
  readonly id = 'stub';
  readonly capabilities = { 'nano-banana': { taskTypes: ['text2image'], formats: ['png', 'jpeg', 'webp'], maxImages: 4, maxReferences: 0 } } as const;
  authHeaders(apiKey: string): Record<string, string> {
    return { 'x-key': apiKey };
  }
  buildSubmit() {
    return { request: { method: 'POST' as const, path: '/jobs', body: { go: true } }, warnings: [], metadata: {} };
  }
  parseSubmit(response: UpstreamResponse) {
    return { kind: 'handle' as const, ref: { id: (response.body as { id: string }).id } };
  }
  buildPoll(ref: { id: string }) {
    return { method: 'GET' as const, path: `/jobs/${ref.id}` };
  }
  parsePoll(response: UpstreamResponse): PollOutcome {
    const body = response.body as { next?: string; status?: 'succeeded'; urls?: string[] };
    if (body.next) return { kind: 'follow', request: { method: 'GET', path: body.next } };
    return { kind: 'state', state: { status: body.status ?? 'processing', images: (body.urls ?? []).map((url) => ({ url })) } };
  }
}

const channel: Channel = { id: 'stub-1', adapterId: 'stub', baseUrl: BASE, apiKey: 'stub-SECRET', priority: 1, weight: 1 };
const alice = { owner: 'alice', keyLabel: 'k' };
const ctx = { requestId: 'r' };

function setup() {
  const clock = new FakeClock();
  const logger = new CapturingLogger();
  const client = new HttpUpstreamClient(clock, new SeqRandom(), logger, new RecordingMetrics(), { retry: { maxAttempts: 1 }, sleep: async () => {} });
  const { c } = serviceContainer({ adapter: StubAdapter, channel, client, options: { pollIntervalMs: 1000 }, clock, logger });
  return { service: c.resolve(TaskService), clock, logger, client, c };
}

afterEach(() => nock.cleanAll());

test('a poll follows up to 3 follow-up requests to reach a state', async () => {
  const { service, client, c } = setup();
  const scope = nock(BASE)
    .post('/jobs', { go: true })
    .reply(201, { id: 'j1' })
    .get('/jobs/j1')
    .reply(200, { next: '/jobs/j1/status' })
    .get('/jobs/j1/status')
    .reply(200, { next: '/jobs/j1/result' })
    .get('/jobs/j1/result')
    .reply(200, { next: `${BASE}/files/j1` })
    .get('/files/j1')
    .reply(200, { status: 'succeeded', urls: ['https://files.test/j1.png'] });
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: 'p' } }, ctx);
  const task = await service.get(alice, task_id, ctx);
  scope.done();
  expect([task.status, task.result_url]).toStrictEqual(['succeeded', 'https://files.test/j1.png']);
  await client.close();
  await c.dispose();
});

test('a fourth follow-up is refused as malformed: the query answers the stored task and logs why', async () => {
  const { service, logger, client, c } = setup();
  const scope = nock(BASE)
    .post('/jobs')
    .reply(201, { id: 'j2' })
    .get('/jobs/j2')
    .reply(200, { next: '/a' })
    .get('/a')
    .reply(200, { next: '/b' })
    .get('/b')
    .reply(200, { next: '/c' })
    .get('/c')
    .reply(200, { next: '/d' });
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: 'p' } }, ctx);
  const task = await service.get(alice, task_id, ctx);
  scope.done();
  expect([task.status, task.progress]).toStrictEqual(['queued', '0%']);
  const warn = logger.at('warn').find((l) => l.fields.event === 'poll_failed');
  expect(warn?.fields.error).toMatchObject({ kind: 'malformed', message: 'The upstream asked for more than 3 follow-up requests to read one task.' });
  await client.close();
  await c.dispose();
});
