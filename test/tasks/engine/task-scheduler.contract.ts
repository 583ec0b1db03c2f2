/**
 * The TaskScheduler contract, run against every implementation (in-process and BullMQ), like the TaskStore
 * contract. Each check is a named function so that task-scheduler.broken.test.ts can show that the checks
 * fail on deliberately broken schedulers.
 */
import type { TaskRunner, TaskScheduler } from '../../../src/tasks/engine/task-scheduler';

/** Schedulers under test: `scheduler`, and `peer` on the same backing schedule when the implementation shares one. */
export interface SchedulersUnderTest {
  readonly scheduler: TaskScheduler;
  /** Another instance on the same schedule (BullMQ: a second worker on the queue); undefined for in-process. */
  readonly peer?: TaskScheduler;
  /** Stops everything and removes test data. */
  dispose(): Promise<void>;
}

/** Builds fresh schedulers running at most `concurrency` tasks at once each. */
export type SchedulerHarness = (options: { concurrency: number }) => Promise<SchedulersUnderTest>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `cond()` holds, checking every 10 ms, failing after `ms` (an upper bound so a hang fails, not a speed check). */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** until(), for a condition that needs to await (e.g. a store read). */
export async function untilAsync(cond: () => Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Records every run: task id, when it was due, when it started. */
function recorder(answer: (taskId: string, runs: number) => number | null | Promise<number | null>, workMs = 0) {
  const runs: Array<{ taskId: string; dueAt: number; startedAt: number }> = [];
  const counts = new Map<string, number>();
  let active = 0;
  let maxActive = 0;
  const activeById = new Map<string, number>();
  let overlapped = false;
  const run: TaskRunner = async (taskId, dueAt) => {
    runs.push({ taskId, dueAt, startedAt: Date.now() });
    const n = (counts.get(taskId) ?? 0) + 1;
    counts.set(taskId, n);
    active += 1;
    maxActive = Math.max(maxActive, active);
    const mine = (activeById.get(taskId) ?? 0) + 1;
    activeById.set(taskId, mine);
    if (mine > 1) overlapped = true;
    try {
      if (workMs > 0) await sleep(workMs);
      return await answer(taskId, n);
    } finally {
      active -= 1;
      activeById.set(taskId, (activeById.get(taskId) ?? 1) - 1);
    }
  };
  return { run, runs, counts, maxActive: () => maxActive, overlapped: () => overlapped, active: () => active };
}

/** One contract check: builds its own schedulers with `harness`, asserts with expect, disposes. */
export type SchedulerCheck = (harness: SchedulerHarness) => Promise<void>;

async function withSchedulers(harness: SchedulerHarness, concurrency: number, body: (s: SchedulersUnderTest) => Promise<void>): Promise<void> {
  const s = await harness({ concurrency });
  try {
    await body(s);
  } finally {
    await s.dispose();
  }
}

/** The checks, by name. */
export const schedulerChecks: Record<string, SchedulerCheck> = {
  'runs a scheduled task once, not before its delay, with its due time': (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      const r = recorder(() => null);
      await scheduler.start(r.run);
      const scheduledAt = Date.now();
      await scheduler.schedule('task_a', 400);
      await sleep(100);
      expect(r.runs).toHaveLength(0);
      await until(() => r.runs.length === 1, 10_000, 'the run');
      const [first] = r.runs;
      expect(first?.taskId).toBe('task_a');
      expect(first!.startedAt).toBeGreaterThanOrEqual(scheduledAt + 400 - 5);
      expect(first!.dueAt).toBeGreaterThanOrEqual(scheduledAt + 400 - 5);
      expect(first!.dueAt).toBeLessThanOrEqual(first!.startedAt + 5);
      await sleep(200);
      expect(r.runs).toHaveLength(1);
      expect(await scheduler.size()).toBe(0);
    }),

  "reschedules with the runner's delay until it answers null": (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      const r = recorder((_id, n) => (n < 4 ? 50 : null));
      await scheduler.start(r.run);
      await scheduler.schedule('task_b', 0);
      await until(() => r.runs.length === 4, 10_000, 'four runs');
      await sleep(300);
      expect(r.runs).toHaveLength(4);
      // Each run starts no sooner than the delay its predecessor asked for.
      for (let i = 1; i < r.runs.length; i += 1) expect(r.runs[i]!.startedAt).toBeGreaterThanOrEqual(r.runs[i - 1]!.startedAt + 50 - 5);
      expect(await scheduler.size()).toBe(0);
    }),

  'a task scheduled twice runs once (one schedule per task)': (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      const r = recorder(() => null);
      await scheduler.start(r.run);
      await scheduler.schedule('task_c', 150);
      await scheduler.schedule('task_c', 0);
      await scheduler.schedule('task_c', 50);
      await until(() => r.runs.length >= 1, 10_000, 'the run');
      await sleep(400);
      expect(r.runs.map((x) => x.taskId)).toStrictEqual(['task_c']);
    }),

  'scheduling a running task does not run it a second time at once': (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      const r = recorder(() => null, 200);
      await scheduler.start(r.run);
      await scheduler.schedule('task_d', 0);
      await until(() => r.active() === 1, 10_000, 'the run to start');
      await scheduler.schedule('task_d', 0);
      await until(() => r.active() === 0 && r.runs.length >= 1, 10_000, 'the run to end');
      await sleep(300);
      expect(r.overlapped()).toBe(false);
      expect(r.runs).toHaveLength(1);
    }),

  'runs at most `concurrency` tasks at once, and every one of them': (harness) =>
    withSchedulers(harness, 2, async ({ scheduler }) => {
      const r = recorder(() => null, 60);
      await scheduler.start(r.run);
      for (let i = 0; i < 8; i += 1) await scheduler.schedule(`task_e${i}`, 0);
      await until(() => r.runs.length === 8 && r.active() === 0, 10_000, 'eight runs');
      expect(r.maxActive()).toBeLessThanOrEqual(2);
      expect([...r.counts.values()]).toStrictEqual(Array(8).fill(1));
    }),

  'a runner that rejects is run again': (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      const r = recorder((_id, n) => {
        if (n < 3) throw new Error('step failed');
        return null;
      });
      await scheduler.start(r.run);
      await scheduler.schedule('task_f', 0);
      await until(() => r.runs.length === 3, 5_000, 'three runs');
      await sleep(200);
      expect(r.runs).toHaveLength(3);
    }),

  '300 tasks with spread delays each run exactly once, in due order within the timer resolution': (harness) =>
    withSchedulers(harness, 16, async ({ scheduler }) => {
      const r = recorder(() => null);
      await scheduler.start(r.run);
      const delays = Array.from({ length: 300 }, (_, i) => (i * 37) % 600);
      await Promise.all(delays.map((d, i) => scheduler.schedule(`task_g${i}`, d)));
      await until(() => r.runs.length === 300, 20_000, '300 runs');
      await sleep(200);
      expect(r.runs).toHaveLength(300);
      expect(new Set(r.runs.map((x) => x.taskId)).size).toBe(300);
      for (const run of r.runs) expect(run.startedAt).toBeGreaterThanOrEqual(run.dueAt - 5);
    }),

  'after stop() nothing runs, and the running task was awaited': (harness) =>
    withSchedulers(harness, 4, async ({ scheduler }) => {
      let finished = false;
      const r = recorder(async () => {
        await sleep(150);
        finished = true;
        return 10;
      });
      await scheduler.start(r.run);
      await scheduler.schedule('task_h', 0);
      await until(() => r.active() === 1, 10_000, 'the run to start');
      await scheduler.stop();
      expect(finished).toBe(true);
      const count = r.runs.length;
      await scheduler.schedule('task_i', 0).catch(() => undefined);
      await sleep(300);
      expect(r.runs).toHaveLength(count);
    }),

  'two instances on one schedule: every task runs, never on both at once': async (harness) => {
    const s = await harness({ concurrency: 8 });
    try {
      if (!s.peer) return; // in-process: one instance per schedule
      const shared = { active: new Map<string, number>(), overlapped: false, runs: new Map<string, number>() };
      const make = (): TaskRunner => async (taskId) => {
        const a = (shared.active.get(taskId) ?? 0) + 1;
        shared.active.set(taskId, a);
        if (a > 1) shared.overlapped = true;
        const n = (shared.runs.get(taskId) ?? 0) + 1;
        shared.runs.set(taskId, n);
        await sleep(5);
        shared.active.set(taskId, (shared.active.get(taskId) ?? 1) - 1);
        return n < 3 ? 30 : null;
      };
      await s.scheduler.start(make());
      await s.peer.start(make());
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? s.peer! : s.scheduler).schedule(`task_j${i}`, i % 7)));
      await until(() => shared.runs.size === 60 && [...shared.runs.values()].every((n) => n === 3), 20_000, 'three runs of each of 60 tasks');
      await sleep(200);
      expect(shared.overlapped).toBe(false);
      expect([...shared.runs.values()]).toStrictEqual(Array(60).fill(3));
    } finally {
      await s.dispose();
    }
  },
};

/** Registers the contract tests for one scheduler implementation. */
export function describeSchedulerContract(describeFn: jest.Describe, name: string, harness: SchedulerHarness): void {
  describeFn(`TaskScheduler contract: ${name}`, () => {
    for (const [title, check] of Object.entries(schedulerChecks)) test(title, () => check(harness), 30_000);
  });
}
