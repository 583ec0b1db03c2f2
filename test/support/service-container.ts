/** A child container with everything TaskService needs, for tests that build the service by hand. */
import { container as root, type DependencyContainer } from 'tsyringe';
import type { constructor } from 'tsyringe/dist/typings/types';
import type { Channel } from '../../src/routing/channels';
import type { ImageAdapter } from '../../src/adapter-kit/contract';
import { AdapterRegistry } from '../../src/routing/registry';
import { ADAPTERS, CHANNEL_ROUTER, CLOCK, LOGGER, METRICS, NORMALIZE_OPTIONS, RANDOM, TASK_OPTIONS, TASK_STORE, UPSTREAM_CLIENT, USAGE_SINK } from '../../src/di/tokens';
import { DEFAULT_NORMALIZE_OPTIONS } from '../../src/intent/normalize';
import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import type { TaskServiceOptions } from '../../src/tasks/task-service';
import type { UpstreamClient } from '../../src/upstream/upstream-client';
import { CapturingLogger } from './capturing-logger';
import { FakeClock } from './fake-clock';
import { RecordingMetrics } from './fake-metrics';
import { RecordingSink } from './recording-sink';
import { SeqRandom } from './seq-random';
import { StaticRouter } from './static-router';

/** What the caller chooses; everything else is a fresh fake. */
export interface ServiceDeps {
  adapter: constructor<ImageAdapter>;
  channel: Channel;
  client: UpstreamClient;
  options: TaskServiceOptions;
  clock?: FakeClock;
  logger?: CapturingLogger;
}

/** Registers a memory store, recording sink, static router, fakes and `deps` in a child container. */
export function serviceContainer(deps: ServiceDeps): { c: DependencyContainer; clock: FakeClock; logger: CapturingLogger } {
  const c = root.createChildContainer();
  const clock = deps.clock ?? new FakeClock();
  const logger = deps.logger ?? new CapturingLogger();
  c.register(ADAPTERS, { useClass: deps.adapter });
  c.register(AdapterRegistry, { useClass: AdapterRegistry });
  c.register(TASK_STORE, { useValue: new MemoryTaskStore(clock) });
  c.register(USAGE_SINK, { useValue: new RecordingSink() });
  c.register(CHANNEL_ROUTER, { useValue: new StaticRouter([deps.channel]) });
  c.register(UPSTREAM_CLIENT, { useValue: deps.client });
  c.register(CLOCK, { useValue: clock });
  c.register(RANDOM, { useValue: new SeqRandom() });
  c.register(LOGGER, { useValue: logger });
  c.register(METRICS, { useValue: new RecordingMetrics() });
  c.register(NORMALIZE_OPTIONS, { useValue: DEFAULT_NORMALIZE_OPTIONS });
  c.register(TASK_OPTIONS, { useValue: deps.options });
  return { c, clock, logger };
}
