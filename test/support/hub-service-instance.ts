/**
 * One TaskService "instance" as the task-service suites build it: the real HttpUpstreamClient (one
 * attempt, no real sleeps) in front of nock'ed hubs, a given store view, and recording fakes. Several
 * instances on one store stand for several gateway processes. Also the suites' shared lifecycle:
 * unmatched nock requests are recorded, and every instance is closed after each test with a check that
 * no line it logged carries an upstream key.
 */
import nock from 'nock';
import type { DependencyContainer } from 'tsyringe';
import type { Channel } from '../../src/routing/channels';
import { WeightedChannelRouter } from '../../src/routing/router';
import { createTranslationContainer } from '../../src/di/container';
import {
  CHANNEL_ROUTER,
  CHANNELS as CHANNELS_TOKEN,
  CLOCK,
  LOGGER,
  METRICS,
  NORMALIZE_OPTIONS,
  PRICES,
  RANDOM,
  SUBMIT_LIMITER,
  TASK_OPTIONS,
  TASK_STORE,
  UPSTREAM_CLIENT,
  USAGE_SINK,
} from '../../src/di/tokens';
import { DEFAULT_NORMALIZE_OPTIONS } from '../../src/intent/normalize';
import type { SubmitLimiter } from '../../src/security/ports';
import type { TaskStore } from '../../src/tasks/ports';
import { DEFAULT_PRICES } from '../../src/tasks/pricing';
import { TaskService, type TaskServiceOptions } from '../../src/tasks/task-service';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { CapturingLogger } from './capturing-logger';
import type { FakeClock } from './fake-clock';
import { RecordingMetrics } from './fake-metrics';
import { RecordingSink } from './recording-sink';
import { SeqRandom } from './seq-random';
import { StaticRouter } from './static-router';

/** A built instance and the fakes behind it. */
export interface HubServiceInstance {
  service: TaskService;
  store: TaskStore;
  sink: RecordingSink;
  metrics: RecordingMetrics;
  /** The static router (also built, unused, when `weightedRouter` is set). */
  router: StaticRouter;
  logger: CapturingLogger;
  client: HttpUpstreamClient;
  container: DependencyContainer;
}

/** What differs between instances and suites. */
export interface HubServiceInstanceOptions {
  store: TaskStore;
  clock: FakeClock;
  channels: Channel[];
  task: TaskServiceOptions;
  /** Seeds the instance's SeqRandom (instances of one test get different ids). */
  seed: number;
  submitTimeoutMs?: number;
  /** Route with the real WeightedChannelRouter (circuit breakers) instead of the static order. */
  weightedRouter?: boolean;
  limiter?: SubmitLimiter;
}

export function buildHubServiceInstance(o: HubServiceInstanceOptions): HubServiceInstance {
  const sink = new RecordingSink();
  const metrics = new RecordingMetrics();
  const router = new StaticRouter(o.channels);
  const logger = new CapturingLogger();
  const random = new SeqRandom([0.5], o.seed);
  const client = new HttpUpstreamClient(o.clock, random, logger, metrics, {
    retry: { maxAttempts: 1 },
    sleep: async () => {},
    ...(o.submitTimeoutMs ? { submitTimeoutMs: o.submitTimeoutMs } : {}),
  });
  const container = createTranslationContainer();
  container.register(TASK_STORE, { useValue: o.store });
  container.register(USAGE_SINK, { useValue: sink });
  container.register(UPSTREAM_CLIENT, { useValue: client });
  container.register(CLOCK, { useValue: o.clock });
  container.register(RANDOM, { useValue: random });
  container.register(LOGGER, { useValue: logger });
  container.register(METRICS, { useValue: metrics });
  container.register(NORMALIZE_OPTIONS, { useValue: DEFAULT_NORMALIZE_OPTIONS });
  container.register(TASK_OPTIONS, { useValue: o.task });
  container.register(PRICES, { useValue: DEFAULT_PRICES });
  if (o.weightedRouter) {
    container.register(CHANNELS_TOKEN, { useValue: o.channels });
    container.register(CHANNEL_ROUTER, { useValue: container.resolve(WeightedChannelRouter) });
  } else {
    container.register(CHANNEL_ROUTER, { useValue: router });
  }
  if (o.limiter) container.register(SUBMIT_LIMITER, { useValue: o.limiter });
  return { service: container.resolve(TaskService), store: o.store, sink, metrics, router, logger, client, container };
}

/** State a suite's tests read; replaced before each test. */
export interface ServiceSuiteState<H> {
  harness: H;
  instances: HubServiceInstance[];
  /** Requests nock had no interceptor for ("METHOD hostpath"). */
  unmatched: string[];
}

/**
 * Registers the suite's beforeEach/afterEach (call inside the describe block): a fresh harness, instance
 * list and unmatched list before each test; after it, nock cleaned, every instance closed, its log checked
 * for `secretPattern`, its container disposed, and the harness disposed.
 */
export function useServiceSuiteLifecycle<H extends { dispose(): Promise<void> }>(makeHarness: () => Promise<H>, secretPattern: RegExp): ServiceSuiteState<H> {
  const state = { instances: [], unmatched: [] } as unknown as ServiceSuiteState<H>;
  const onNoMatch = (req: { method?: string; path?: string; hostname?: string }): void => {
    state.unmatched.push(`${req.method ?? '?'} ${req.hostname ?? ''}${req.path ?? ''}`);
  };
  beforeEach(async () => {
    state.harness = await makeHarness();
    state.instances = [];
    state.unmatched = [];
    nock.emitter.on('no match', onNoMatch);
  });
  afterEach(async () => {
    nock.emitter.removeListener('no match', onNoMatch);
    nock.cleanAll();
    for (const inst of state.instances) {
      await inst.client.close();
      // No line any instance logged may carry an upstream key.
      expect(inst.logger.text()).not.toMatch(secretPattern);
      await inst.container.dispose();
    }
    await state.harness.dispose();
  });
  return state;
}
