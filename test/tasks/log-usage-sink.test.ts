import { container } from 'tsyringe';
import { LOGGER } from '../../src/di/tokens';
import { LogUsageSink } from '../../src/tasks/log-usage-sink';
import { CapturingLogger } from '../support/capturing-logger';

test('LogUsageSink writes one structured info line per usage event', async () => {
  const c = container.createChildContainer();
  const logger = new CapturingLogger();
  c.register(LOGGER, { useValue: logger });
  const sink = c.resolve(LogUsageSink);
  const event = {
    task_id: 'task_AAAAAAAAAAAAAAAAAAAAAA',
    owner: 'alice',
    model: 'gpt-image-2',
    tier: '2K' as const,
    quality: 'high' as const,
    requested_n: 3,
    result_count: 2,
    status: 'succeeded' as const,
    cost: 0.668,
    currency: 'USD',
    channel: 'hub-1',
  };
  await sink.record(event);
  expect(logger.lines).toStrictEqual([{ level: 'info', msg: 'usage settled', fields: { event: 'usage', ...event } }]);
  await c.dispose();
});
