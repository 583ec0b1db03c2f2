/**
 * The scheduler contract can fail: a deliberately broken scheduler (one timer per schedule() call, no
 * "one schedule per task", no concurrency bound, no retry; the naive design the engine avoids) fails the
 * contract checks that guard those properties, while the checks it does satisfy still pass.
 */
import type { TaskRunner, TaskScheduler } from '../../../src/tasks/engine/task-scheduler';
import { schedulerChecks, type SchedulerHarness } from './task-scheduler.contract';

class NaiveTimerScheduler implements TaskScheduler {
  private run: TaskRunner | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  async schedule(taskId: string, delayMs: number): Promise<void> {
    const dueAt = Date.now() + delayMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.run?.(taskId, dueAt).then(
        (next) => {
          if (next !== null) void this.schedule(taskId, next);
        },
        () => undefined,
      );
    }, delayMs);
    this.timers.add(timer);
  }
  async start(run: TaskRunner): Promise<void> {
    this.run = run;
  }
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
  async size(): Promise<number> {
    return this.timers.size;
  }
}

const broken: SchedulerHarness = async () => {
  const scheduler = new NaiveTimerScheduler();
  return { scheduler, dispose: () => scheduler.stop() };
};

test.each(['a task scheduled twice runs once (one schedule per task)', 'runs at most `concurrency` tasks at once, and every one of them', 'a runner that rejects is run again'])(
  'the broken scheduler fails the check "%s"',
  async (name) => {
    const check = schedulerChecks[name];
    expect(check).toBeDefined();
    await expect(check!(broken)).rejects.toThrow();
  },
  30_000,
);

test('the broken scheduler still passes a check it satisfies (the checks are not failing for other reasons)', async () => {
  await schedulerChecks["reschedules with the runner's delay until it answers null"]!(broken);
});
