import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import type { TaskStore } from '../../src/tasks/ports';
import type { FakeClock } from '../support/fake-clock';
import { describeTaskService } from './task-service.suite';

describeTaskService(describe, 'the memory store', async () => {
  let store: MemoryTaskStore | undefined;
  return {
    // One process, one Map: every service instance shares the store (and the first instance's clock).
    open: async (clock: FakeClock): Promise<TaskStore> => (store ??= new MemoryTaskStore(clock)),
    sleep: async () => {},
    dispose: async () => store?.close(),
  };
});
