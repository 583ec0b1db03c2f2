import { MemoryTaskStore } from '../../src/tasks/memory-task-store';
import { FakeClock } from '../support/fake-clock';
import { sampleRecord } from '../support/task-records';
import { describeTaskStoreContract } from './task-store.contract';

describeTaskStoreContract(
  describe,
  'memory',
  async ({ ttlMs }) => {
    const clock = new FakeClock();
    const store = new MemoryTaskStore(clock, ttlMs === undefined ? {} : { ttlMs });
    return {
      store,
      // One process, one Map: another "instance" in the same process is the same store.
      peer: store,
      advance: async (ms) => clock.advance(ms),
      dispose: () => store.close(),
    };
  },
  1000,
);

describe('MemoryTaskStore', () => {
  test('expired records are evicted oldest-first when new ones arrive', async () => {
    const clock = new FakeClock();
    const store = new MemoryTaskStore(clock, { ttlMs: 1000 });
    for (let i = 0; i < 10; i += 1) await store.create(sampleRecord());
    clock.advance(500);
    for (let i = 0; i < 5; i += 1) await store.create(sampleRecord());
    expect(store.size).toBe(15);
    clock.advance(600);
    await store.create(sampleRecord());
    expect(store.size).toBe(6);
  });

  test('rejects a non-positive ttl', () => {
    expect(() => new MemoryTaskStore(new FakeClock(), { ttlMs: 0 })).toThrow(RangeError);
  });
});
