/**
 * The task engine's behaviour, run on the memory store (in-process scheduler) and on Redis (BullMQ):
 * the whole application graph (createAppContainer) in front of a counting hub on a real socket, tasks
 * submitted through the task API and then never queried. Short cadences and intervals (options), no
 * assertion on speed: every wait is an upper bound so that a hang fails.
 */
import type { DependencyContainer } from 'tsyringe';
import { loadConfig } from '../../../src/config/config';
import { closeAppContainer, createAppContainer } from '../../../src/di/container';
import { ENGINE_OPTIONS, LOGGER, TASK_API, TASK_ENGINE, TASK_NOTIFIER, TASK_OPTIONS, TASK_STORE, USAGE_SINK } from '../../../src/di/tokens';
import { PromMetrics } from '../../../src/http/metrics';
import type { BridgeError } from '../../../src/platform/errors';
import type { EngineOptions } from '../../../src/tasks/engine/engine-options';
import type { TaskEngine } from '../../../src/tasks/engine/task-engine';
import type { Principal, TaskApi, TaskNotifier, TaskStore, UsageEvent, UsageSink } from '../../../src/tasks/ports';
import type { TaskOptions } from '../../../src/tasks/task-options';
import type { TaskRecord } from '../../../src/tasks/task-record';
import { CapturingLogger } from '../../support/capturing-logger';
import { startCountingHub, type CountingHub } from '../../support/counting-hub';
import { untilAsync } from './task-scheduler.contract';

const ALICE: Principal = { owner: 'alice', keyLabel: 'alice' };
const REQUEST = { model: 'NanoBanana2-1K', prompt: 'A small red cube', aspect_ratio: '1:1' };
const INTERVAL = 100;
/** Short cadence: first poll after 50 ms, at most every 150 ms (the 100 ms lease interval still holds). */
const ENGINE: EngineOptions = { pollCadence: { firstMs: 50, factor: 2, capMs: 150 }, retryFirstMs: 50, retryCapMs: 200 };

/** The store side of a suite: memory, or Redis with a unique prefix. */
export interface EngineStoreHarness {
  /** Extra environment for loadConfig (TASK_STORE, REDIS_URL, REDIS_KEY_PREFIX). */
  env(): Record<string, string>;
  /** Removes test data. */
  dispose(): Promise<void>;
}

/** A sink that records, optionally failing its first `failures` calls. */
class FlakySink implements UsageSink {
  readonly events: UsageEvent[] = [];
  calls = 0;
  constructor(private failures = 0) {}
  async record(event: UsageEvent): Promise<void> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('billing database down');
    }
    this.events.push(event);
  }
}

interface App {
  c: DependencyContainer;
  api: TaskApi;
  store: TaskStore;
  sink: FlakySink;
  logger: CapturingLogger;
  metrics: PromMetrics;
}

export function describeTaskEngine(describeFn: jest.Describe, name: string, makeHarness: () => Promise<EngineStoreHarness>): void {
  describeFn(`task engine on ${name}`, () => {
    let harness: EngineStoreHarness;
    let hub: CountingHub;
    const apps: App[] = [];
    jest.setTimeout(30_000);

    afterEach(async () => {
      for (const app of apps.splice(0)) await closeAppContainer(app.c);
      await hub?.close();
      await harness?.dispose();
    });

    async function app(options: { env?: Record<string, string>; sink?: FlakySink; task?: TaskOptions; notifier?: TaskNotifier } = {}): Promise<App> {
      const config = loadConfig({
        GATEWAY_API_KEYS: 'sk-engine-test-key:alice',
        HUB_BASE_URL: hub.baseUrl,
        HUB_API_KEY: hub.apiKey,
        POLL_INTERVAL_MS: String(INTERVAL),
        RATE_LIMIT_PER_MINUTE: '100000',
        RATE_LIMIT_BURST: '1000',
        MAX_OPEN_TASKS_PER_OWNER: '1000',
        ...harness.env(),
        ...options.env,
      });
      const sink = options.sink ?? new FlakySink();
      const logger = new CapturingLogger();
      const c = createAppContainer(config, {
        processMetrics: false,
        register: (r) => {
          r.register(USAGE_SINK, { useValue: sink });
          r.register(LOGGER, { useValue: logger });
          r.register(ENGINE_OPTIONS, { useValue: ENGINE });
          if (options.task) r.register(TASK_OPTIONS, { useValue: { pollIntervalMs: INTERVAL, ...options.task } });
          if (options.notifier) r.register(TASK_NOTIFIER, { useValue: options.notifier });
        },
      });
      const made: App = { c, api: c.resolve<TaskApi>(TASK_API), store: c.resolve<TaskStore>(TASK_STORE), sink, logger, metrics: c.resolve(PromMetrics) };
      apps.push(made);
      return made;
    }

    async function submitMany(a: App, n: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 1) ids.push((await a.api.submit(ALICE, { body: { ...REQUEST, prompt: `cube ${i}` } }, { requestId: `req-${i}` })).task_id);
      return ids;
    }

    async function records(a: App, ids: readonly string[]): Promise<TaskRecord[]> {
      return Promise.all(ids.map(async (id) => (await a.store.get(id)) as TaskRecord));
    }

    beforeEach(async () => {
      harness = await makeHarness();
    });

    test('20 tasks never queried each reach succeeded and produce exactly one usage line', async () => {
      hub = await startCountingHub({ pollsToFinish: 3 });
      const a = await app();
      const ids = await submitMany(a, 20);
      await untilAsync(async () => (await records(a, ids)).every((r) => r.usageSettled), 20_000, '20 settled tasks');
      const all = await records(a, ids);
      expect(all.map((r) => [r.status, r.usageSettled])).toStrictEqual(ids.map(() => ['succeeded', true]));
      // Exactly one line per task, none for anything else, and each line is the task's.
      await new Promise((r) => setTimeout(r, 300));
      expect(a.sink.events.map((e) => e.task_id).sort()).toStrictEqual([...ids].sort());
      expect(a.sink.events.every((e) => e.status === 'succeeded' && e.result_count === 1 && e.cost === 0.067)).toBe(true);
      // One upstream job per task, each polled until it finished, and no more.
      expect(hub.submitted).toHaveLength(20);
      expect([...hub.polls.values()].map((t) => t.length)).toStrictEqual(Array(20).fill(3));
      // The engine's series are on /metrics.
      const text = (await a.metrics.render()).body;
      expect(text).toMatch(/^bridge_engine_polls_total\{channel="hub",outcome="polled"\} 60$/m);
      expect(text).toMatch(/^bridge_engine_due_lag_seconds_count \d+$/m);
      expect(text).toMatch(/^bridge_engine_open_tasks 0$/m);
      expect(text).toContain('bridge_usage_settlement_retries_total');
    });

    test('a task past its deadline fails with upstream_timeout and no query; its open-task slot is released', async () => {
      hub = await startCountingHub({ pollsToFinish: Number.POSITIVE_INFINITY });
      const a = await app({ env: { MAX_OPEN_TASKS_PER_OWNER: '1', TASK_DEADLINE_MS: '600' } });
      const [id] = await submitMany(a, 1);
      // The one slot is taken: a second submit is refused before any upstream call.
      const refused = (await a.api.submit(ALICE, { body: REQUEST }, { requestId: 'req-x' }).catch((e: unknown) => e)) as BridgeError;
      expect(refused.code).toBe('rate_limited');
      expect(hub.submitted).toHaveLength(1);
      await untilAsync(async () => ((await a.store.get(id as string)) as TaskRecord).usageSettled, 20_000, 'the deadline');
      const record = (await a.store.get(id as string)) as TaskRecord;
      expect(record.status).toBe('failed');
      expect(record.error).toStrictEqual({ code: 'upstream_timeout', message: 'The upstream did not finish the task within 0 minutes.' });
      expect(a.sink.events).toMatchObject([{ task_id: id, status: 'failed', cost: 0 }]);
      // The slot was released at the terminal transition: the next submit is accepted.
      const next = await a.api.submit(ALICE, { body: REQUEST }, { requestId: 'req-y' });
      expect(next.status).toBe('queued');
      expect(hub.submitted).toHaveLength(2);
    });

    test('a sink that throws twice, then succeeds: one confirmed charge', async () => {
      hub = await startCountingHub({ pollsToFinish: 1 });
      const sink = new FlakySink(2);
      const a = await app({ sink, task: { settlementLeaseMs: 60 } });
      const [id] = await submitMany(a, 1);
      await untilAsync(async () => ((await a.store.get(id as string)) as TaskRecord).usageSettled, 20_000, 'the settlement');
      await new Promise((r) => setTimeout(r, 400));
      expect(sink.calls).toBe(3);
      expect(sink.events).toMatchObject([{ task_id: id, status: 'succeeded', cost: 0.067 }]);
      expect(((await a.store.get(id as string)) as TaskRecord).usageSettled).toBe(true);
      expect(a.logger.lines.filter((l) => l.fields.event === 'usage_settlement_failed')).toHaveLength(2);
      expect((await a.metrics.render()).body).toMatch(/^bridge_usage_settlement_retries_total\{model="NanoBanana2-1K"\} 2$/m);
    });

    test('a settlement claimed and never confirmed (a process died in between) is settled once its claim lapses', async () => {
      hub = await startCountingHub({ pollsToFinish: 1 });
      const a = await app({ task: { settlementLeaseMs: 300 } });
      const engine = a.c.resolve<TaskEngine>(TASK_ENGINE);
      const [id] = await submitMany(a, 1);
      // Take the claim as the dead process did, before the engine can settle.
      expect(await a.store.claimSettlement(id as string, 300)).toBe('claimed');
      await untilAsync(async () => ((await a.store.get(id as string)) as TaskRecord).usageSettled, 20_000, 'the settlement');
      await new Promise((r) => setTimeout(r, 300));
      expect(a.sink.events.map((e) => e.task_id)).toStrictEqual([id]);
      expect(((await a.store.get(id as string)) as TaskRecord).usageSettled).toBe(true);
      await engine.track((await a.store.get(id as string)) as TaskRecord);
      await new Promise((r) => setTimeout(r, 200));
      expect(a.sink.events).toHaveLength(1);
    });

    test('a task with a callbackUrl is handed to the TaskNotifier after settlement, retried until it takes it, then marked notified', async () => {
      hub = await startCountingHub({ pollsToFinish: 2 });
      const seen: Array<{ id: string; settled: boolean; url: string | undefined }> = [];
      let failures = 1;
      const notifier: TaskNotifier = {
        notify: async (record) => {
          seen.push({ id: record.id, settled: record.usageSettled, url: record.callbackUrl });
          if (failures-- > 0) throw new Error('webhook queue unavailable');
        },
      };
      const a = await app({ notifier });
      const plain = await a.api.submit(ALICE, { body: REQUEST }, { requestId: 'req-plain' });
      const hooked = await a.api.submit(ALICE, { body: REQUEST }, { requestId: 'req-hook' }, { callbackUrl: 'https://receiver.example/hooks/itb' });
      await untilAsync(async () => ((await a.store.get(hooked.task_id)) as TaskRecord).notified === true, 20_000, 'the notification');
      await untilAsync(async () => ((await a.store.get(plain.task_id)) as TaskRecord).usageSettled, 20_000, 'both settlements');
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toStrictEqual([
        { id: hooked.task_id, settled: true, url: 'https://receiver.example/hooks/itb' },
        { id: hooked.task_id, settled: true, url: 'https://receiver.example/hooks/itb' },
      ]);
      const record = (await a.store.get(hooked.task_id)) as TaskRecord;
      expect([record.callbackUrl, record.notified]).toStrictEqual(['https://receiver.example/hooks/itb', true]);
      const other = (await a.store.get(plain.task_id)) as TaskRecord;
      expect([other.callbackUrl, other.notified, other.usageSettled]).toStrictEqual([undefined, undefined, true]);
    });

    test('queries and the engine together: each task polled at most once per interval, settled once', async () => {
      hub = await startCountingHub({ pollsToFinish: 4 });
      const a = await app();
      const ids = await submitMany(a, 10);
      let stop = false;
      const querying = (async () => {
        while (!stop) {
          await Promise.all(ids.map((id) => a.api.get(ALICE, id, { requestId: 'q' })));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await untilAsync(async () => (await records(a, ids)).every((r) => r.usageSettled), 20_000, '10 settlements');
      stop = true;
      await querying;
      for (const times of hub.polls.values()) {
        expect(times.length).toBeGreaterThanOrEqual(4);
        for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(INTERVAL / 2);
      }
      expect(a.sink.events.map((e) => e.task_id).sort()).toStrictEqual([...ids].sort());
    });
  });
}

