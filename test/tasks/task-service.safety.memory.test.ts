import { MemorySubmitLimiter } from '../../src/security/submit-limiter';
import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import type { SubmitLimiter } from '../../src/security/ports';
import type { TaskStore } from '../../src/tasks/ports';
import type { FakeClock } from '../support/fake-clock';
import { describeTaskServiceSafety } from './task-service.safety.suite';

describeTaskServiceSafety(
  describe,
  'the memory store (fake clock)',
  async () => {
    // One process: every instance shares one store and one limiter.
    let store: MemoryTaskStore | undefined;
    let limiter: MemorySubmitLimiter | undefined;
    return {
      openStore: async (clock: FakeClock): Promise<TaskStore> => (store ??= new MemoryTaskStore(clock)),
      openLimiter: async (clock, limits): Promise<SubmitLimiter> => (limiter ??= new MemorySubmitLimiter(clock, limits)),
      pass: async (clock, ms) => clock.advance(ms),
      dispose: async () => {
        await store?.close();
        await limiter?.close();
      },
    };
  },
  24 * 60 * 60 * 1000,
);
