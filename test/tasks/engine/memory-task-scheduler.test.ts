/** The in-process scheduler passes the TaskScheduler contract. */
import { MemoryTaskScheduler } from '../../../src/tasks/engine/memory-task-scheduler';
import { describeSchedulerContract } from './task-scheduler.contract';

describeSchedulerContract(describe, 'in-process timer heap', async ({ concurrency }) => {
  const scheduler = new MemoryTaskScheduler({ concurrency, retryMs: 30 });
  return { scheduler, dispose: () => scheduler.stop() };
});
