/**
 * The TaskStore contract, run against every implementation (memory and Redis). Not a test file by itself:
 * each store's test file calls `describeTaskStoreContract` with a harness.
 */
import type { TaskStore } from '../../src/tasks/ports';
import { sampleRecord } from '../support/task-records';

/** One store under test, plus how to let time pass for it. */
export interface StoreUnderTest {
  /** The store. */
  readonly store: TaskStore;
  /** A second store on the same backing data (another instance), closed by `dispose`. */
  readonly peer: TaskStore;
  /** Lets `ms` of the store's time pass (fake clock for memory, real time for Redis). */
  advance(ms: number): Promise<void>;
  /** Closes everything and removes test data. */
  dispose(): Promise<void>;
}

/** Builds a fresh store; `ttlMs` overrides the record retention. */
export type StoreHarness = (options: { ttlMs?: number }) => Promise<StoreUnderTest>;

/** Registers the contract tests for one store implementation. `shortMs` is a lease/TTL length cheap to wait for. */
export function describeTaskStoreContract(describeFn: jest.Describe, name: string, harness: StoreHarness, shortMs: number): void {
  describeFn(`TaskStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    beforeEach(async () => {
      sut = await harness({});
    });
    afterEach(async () => {
      await sut.dispose();
    });

    test('create then get returns an equal record; unknown ids are undefined', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      expect(await sut.store.get(record.id)).toStrictEqual(record);
      expect(await sut.peer.get(record.id)).toStrictEqual(record);
      expect(await sut.store.get('task_doesnotexistAAAAAAAAAAAAAA')).toBeUndefined();
    });

    test('get hands out a copy: mutating it does not change the stored record', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      const copy = await sut.store.get(record.id);
      copy!.status = 'failed';
      copy!.resultUrls.push('https://x.test/1.png');
      expect(await sut.store.get(record.id)).toStrictEqual(record);
    });

    test('create refuses an existing id', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      await expect(sut.peer.create({ ...record, owner: 'someone-else' })).rejects.toThrow(/already exists/);
      expect((await sut.store.get(record.id))?.owner).toBe('owner-a');
    });

    test('update replaces the record', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      const next = { ...record, status: 'processing' as const, progress: 40, updatedAt: record.updatedAt + 1000, lastPolledAt: record.updatedAt + 1000 };
      await sut.store.update(next);
      expect(await sut.peer.get(record.id)).toStrictEqual(next);
    });

    test('a terminal record is final: a different status never replaces it, the same status may (usageSettled)', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      const done = { ...record, status: 'succeeded' as const, progress: 100, resultUrls: ['https://cdn.test/a.png'] };
      await sut.store.update(done);
      await sut.peer.update({ ...record, status: 'processing', progress: 50 });
      await sut.peer.update({ ...record, status: 'failed', progress: 100, error: { code: 'upstream_timeout', message: 'late' } });
      expect(await sut.store.get(record.id)).toStrictEqual(done);
      const settled = { ...done, usageSettled: true };
      await sut.peer.update(settled);
      expect(await sut.store.get(record.id)).toStrictEqual(settled);
    });

    test('poll lease: one holder per interval, free again after it, independent per task', async () => {
      const a = sampleRecord();
      const b = sampleRecord();
      await sut.store.create(a);
      await sut.store.create(b);
      expect(await sut.store.tryAcquirePollLease(a.id, shortMs)).toBe(true);
      expect(await sut.store.tryAcquirePollLease(a.id, shortMs)).toBe(false);
      expect(await sut.peer.tryAcquirePollLease(a.id, shortMs)).toBe(false);
      expect(await sut.peer.tryAcquirePollLease(b.id, shortMs)).toBe(true);
      await sut.advance(shortMs + 20);
      expect(await sut.peer.tryAcquirePollLease(a.id, shortMs)).toBe(true);
      expect(await sut.store.tryAcquirePollLease(a.id, shortMs)).toBe(false);
    });

    test('poll lease: 40 concurrent callers on two instances, exactly one wins', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? sut.peer : sut.store).tryAcquirePollLease(record.id, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test('claimSettlement: one holder per lease across concurrent callers on two instances; confirmed is settled for good', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? sut.peer : sut.store).claimSettlement(record.id, 60_000)));
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r === 'held')).toHaveLength(39);
      await sut.store.confirmSettlement(record.id);
      expect(await sut.peer.claimSettlement(record.id, 60_000)).toBe('settled');
      await sut.store.confirmSettlement(record.id);
      expect(await sut.store.claimSettlement(record.id, 60_000)).toBe('settled');
    });

    test('claimSettlement: a claim never confirmed lapses after its lease, then exactly one caller claims again', async () => {
      const record = sampleRecord();
      await sut.store.create(record);
      expect(await sut.store.claimSettlement(record.id, shortMs)).toBe('claimed');
      expect(await sut.peer.claimSettlement(record.id, shortMs)).toBe('held');
      await sut.advance(shortMs + 20);
      const again = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? sut.peer : sut.store).claimSettlement(record.id, 60_000)));
      expect(again.filter((r) => r === 'claimed')).toHaveLength(1);
      await sut.peer.confirmSettlement(record.id);
      await sut.advance(shortMs + 20);
      expect(await sut.store.claimSettlement(record.id, shortMs)).toBe('settled');
    });

    describe('idempotency keys', () => {
      const entry = (taskId: string, fingerprint = 'fp-1') => ({ fingerprint, taskId, state: 'pending' as const });

      test('the first reserve wins; later reserves see the pending entry, on any instance', async () => {
        expect(await sut.store.reserveIdempotencyKey('k1', entry('task_A'), 60_000)).toStrictEqual({ outcome: 'reserved' });
        expect(await sut.peer.reserveIdempotencyKey('k1', entry('task_B', 'fp-2'), 60_000)).toStrictEqual({
          outcome: 'exists',
          entry: { fingerprint: 'fp-1', taskId: 'task_A', state: 'pending' },
        });
        // Keys are independent.
        expect(await sut.peer.reserveIdempotencyKey('k2', entry('task_C'), 60_000)).toStrictEqual({ outcome: 'reserved' });
      });

      test('complete turns the reservation into a completed entry that later reserves answer', async () => {
        await sut.store.reserveIdempotencyKey('k1', entry('task_A'), 60_000);
        expect(await sut.store.completeIdempotencyKey('k1', entry('task_A'), 60_000)).toBe(true);
        expect(await sut.peer.reserveIdempotencyKey('k1', entry('task_B'), 60_000)).toStrictEqual({
          outcome: 'exists',
          entry: { fingerprint: 'fp-1', taskId: 'task_A', state: 'completed' },
        });
      });

      test('complete and release act only on the caller\'s own pending reservation', async () => {
        await sut.store.reserveIdempotencyKey('k1', entry('task_A'), 60_000);
        expect(await sut.peer.completeIdempotencyKey('k1', entry('task_B'), 60_000)).toBe(false);
        await sut.peer.releaseIdempotencyKey('k1', 'task_B');
        expect(await sut.store.reserveIdempotencyKey('k1', entry('task_B'), 60_000)).toStrictEqual({ outcome: 'exists', entry: entry('task_A') });
        await sut.store.completeIdempotencyKey('k1', entry('task_A'), 60_000);
        // A completed key is never released by a late failure.
        await sut.peer.releaseIdempotencyKey('k1', 'task_A');
        expect(await sut.store.reserveIdempotencyKey('k1', entry('task_B'), 60_000)).toStrictEqual({
          outcome: 'exists',
          entry: { fingerprint: 'fp-1', taskId: 'task_A', state: 'completed' },
        });
      });

      test('release frees the key for the next submit', async () => {
        await sut.store.reserveIdempotencyKey('k1', entry('task_A'), 60_000);
        await sut.peer.releaseIdempotencyKey('k1', 'task_A');
        expect(await sut.peer.reserveIdempotencyKey('k1', entry('task_B'), 60_000)).toStrictEqual({ outcome: 'reserved' });
      });

      test('40 concurrent reserves of one key on two instances: exactly one is reserved', async () => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? sut.peer : sut.store).reserveIdempotencyKey('k-race', entry(`task_${i}`), 60_000)),
        );
        const winners = results.flatMap((r, i) => (r.outcome === 'reserved' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) if (r.outcome === 'exists') expect(r.entry.taskId).toBe(`task_${winners[0]}`);
      });

      test('a pending reservation lapses after its TTL; a completed key after its own TTL', async () => {
        await sut.store.reserveIdempotencyKey('k1', entry('task_A'), shortMs);
        await sut.advance(shortMs + 20);
        expect(await sut.peer.reserveIdempotencyKey('k1', entry('task_B'), shortMs)).toStrictEqual({ outcome: 'reserved' });
        // task_A's reservation is gone: it can neither complete nor release task_B's.
        expect(await sut.store.completeIdempotencyKey('k1', entry('task_A'), 60_000)).toBe(false);
        expect(await sut.peer.completeIdempotencyKey('k1', entry('task_B'), shortMs * 5)).toBe(true);
        await sut.advance(shortMs + 20);
        expect(await sut.store.reserveIdempotencyKey('k1', entry('task_C'), 60_000)).toMatchObject({ outcome: 'exists' });
        await sut.advance(shortMs * 5);
        expect(await sut.store.reserveIdempotencyKey('k1', entry('task_C'), 60_000)).toStrictEqual({ outcome: 'reserved' });
      });
    });

    test('ping answers', async () => {
      await expect(sut.store.ping()).resolves.toBeUndefined();
    });
  });

  describeFn(`TaskStore contract: ${name} retention`, () => {
    test('records expire ttlMs after creation', async () => {
      const sut = await harness({ ttlMs: shortMs * 3 });
      try {
        const record = sampleRecord();
        await sut.store.create(record);
        await sut.advance(shortMs);
        expect(await sut.store.get(record.id)).toStrictEqual(record);
        await sut.advance(shortMs * 3);
        expect(await sut.store.get(record.id)).toBeUndefined();
        // The id is free again once expired.
        await sut.store.create(record);
        expect(await sut.peer.get(record.id)).toStrictEqual(record);
      } finally {
        await sut.dispose();
      }
    });
  });
}
