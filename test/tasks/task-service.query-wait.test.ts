/**
 * QUERY_WAIT_MS: a query never waits longer than queryWaitMs for its upstream poll. A hung upstream
 * (timeouts x retries) gets the stored task back promptly; the poll finishes in the background and the
 * next query sees its result.
 */
import type { Channel } from '../../src/routing/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../../src/adapter-kit/contract';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { TaskService } from '../../src/tasks/task-service';
import type { UpstreamClient } from '../../src/upstream/upstream-client';
import { serviceContainer } from '../support/service-container';

/** Answers submits at once; holds every poll until the test releases it. */
class HeldPollClient implements UpstreamClient {
  readonly held: Array<(r: UpstreamResponse) => void> = [];
  polls = 0;
  async send(_c: Channel, _a: ImageAdapter, request: UpstreamRequest): Promise<UpstreamResponse> {
    if (request.method === 'POST') return { status: 202, body: { task_id: 'up_1', status: 'queued', ready: false } };
    this.polls += 1;
    return new Promise((resolve) => this.held.push(resolve));
  }
  async close(): Promise<void> {}
}

const channel: Channel = { id: 'hub', adapterId: 'hub', baseUrl: 'https://hub.test', apiKey: 'hub-key-secret', priority: 0, weight: 1 };
const alice = { owner: 'alice', keyLabel: 'k' };

test('a hung poll is answered from the store after queryWaitMs; the poll lands in the background', async () => {
  const client = new HeldPollClient();
  const { c, logger } = serviceContainer({ adapter: HubAdapter, channel, client, options: { pollIntervalMs: 1000, queryWaitMs: 50 } });
  const service = c.resolve(TaskService);

  const submitted = await service.submit(alice, { body: { model: 'NanoBanana', prompt: 'a fox' } }, { requestId: 'r1' });
  const ctx = { requestId: 'r2', upstreamMs: 0 };
  const answered = await service.get(alice, submitted.task_id, ctx);
  expect(answered).toStrictEqual(submitted);
  expect(client.polls).toBe(1);
  expect(ctx.upstreamMs).toBeGreaterThanOrEqual(0);
  expect(logger.lines.filter((l) => l.fields.event === 'poll_slow').map((l) => [l.level, l.fields.request_id, l.fields.waited_ms])).toStrictEqual([['warn', 'r2', 50]]);

  // The held poll now answers; its result is stored even though its query already returned.
  client.held[0]?.({ status: 200, body: { task_id: 'up_1', status: 'succeeded', ready: true, output: { images: [{ url: 'https://cdn.test/a.png' }] } } });
  await new Promise((r) => setImmediate(r));
  const after = await service.get(alice, submitted.task_id, { requestId: 'r3' });
  expect([after.status, after.result_url, client.polls]).toStrictEqual(['succeeded', 'https://cdn.test/a.png', 1]);
});
