/**
 * QUERY_WAIT_MS: a query never waits longer than queryWaitMs for its upstream poll. A hung upstream
 * (timeouts x retries) gets the stored task back promptly; the poll finishes in the background and the
 * next query sees its result.
 */
import { container as root } from 'tsyringe';
import type { Channel } from '../../src/adapter/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../../src/adapter/contract';
import { AdapterRegistry } from '../../src/adapter/registry';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { ADAPTERS, CHANNEL_ROUTER, CLOCK, LOGGER, METRICS, NORMALIZE_OPTIONS, RANDOM, TASK_OPTIONS, TASK_STORE, UPSTREAM_CLIENT, USAGE_SINK } from '../../src/di/tokens';
import { DEFAULT_NORMALIZE_OPTIONS } from '../../src/intent/normalize';
import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import { TaskService } from '../../src/tasks/task-service';
import type { UpstreamClient } from '../../src/upstream/upstream-client';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { RecordingMetrics } from '../support/fake-metrics';
import { RecordingSink } from '../support/recording-sink';
import { SeqRandom } from '../support/seq-random';
import { StaticRouter } from '../support/static-router';

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
  const c = root.createChildContainer();
  const clock = new FakeClock();
  const client = new HeldPollClient();
  const logger = new CapturingLogger();
  c.register(ADAPTERS, { useClass: HubAdapter });
  c.register(AdapterRegistry, { useClass: AdapterRegistry });
  c.register(TASK_STORE, { useValue: new MemoryTaskStore(clock) });
  c.register(USAGE_SINK, { useValue: new RecordingSink() });
  c.register(CHANNEL_ROUTER, { useValue: new StaticRouter([channel]) });
  c.register(UPSTREAM_CLIENT, { useValue: client });
  c.register(CLOCK, { useValue: clock });
  c.register(RANDOM, { useValue: new SeqRandom() });
  c.register(LOGGER, { useValue: logger });
  c.register(METRICS, { useValue: new RecordingMetrics() });
  c.register(NORMALIZE_OPTIONS, { useValue: DEFAULT_NORMALIZE_OPTIONS });
  c.register(TASK_OPTIONS, { useValue: { pollIntervalMs: 1000, queryWaitMs: 50 } });
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
