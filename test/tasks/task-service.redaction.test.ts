/**
 * A failed task's upstream error text reaches the client in the task's `error.message`: the channel key
 * itself is removed, even when it does not look like a credential.
 */
import type { Channel } from '../../src/routing/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../../src/adapter-kit/contract';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { TaskService } from '../../src/tasks/task-service';
import type { UpstreamClient } from '../../src/upstream/upstream-client';
import { serviceContainer } from '../support/service-container';

const PLAIN_KEY = 'orchid-lantern-5531';
const channel: Channel = { id: 'hub', adapterId: 'hub', baseUrl: 'https://hub.test', apiKey: PLAIN_KEY, priority: 0, weight: 1 };

class FailingHub implements UpstreamClient {
  async send(_c: Channel, _a: ImageAdapter, request: UpstreamRequest): Promise<UpstreamResponse> {
    if (request.method === 'POST') return { status: 202, body: { task_id: 'up_9', status: 'queued', ready: false } };
    return { status: 200, body: { task_id: 'up_9', status: 'failed', ready: true, error: { code: 'quota', message: `account ${PLAIN_KEY} has no credit left` } } };
  }
  async close(): Promise<void> {}
}

test('the channel key is removed from a failed task error message', async () => {
  const { c } = serviceContainer({ adapter: HubAdapter, channel, client: new FailingHub(), options: { pollIntervalMs: 1000 } });
  const service = c.resolve(TaskService);
  const alice = { owner: 'alice', keyLabel: 'k' };
  const { task_id } = await service.submit(alice, { body: { model: 'NanoBanana', prompt: 'a fox' } }, { requestId: 'r1' });
  const task = await service.get(alice, task_id, { requestId: 'r2' });
  expect(task.status).toBe('failed');
  expect(task.error?.code).toBe('quota');
  expect(task.error?.message).not.toContain(PLAIN_KEY);
  expect(task.error?.message).toMatch(/^account \S+ has no credit left$/);
});
