/**
 * MemoryTaskStore: the in-process TaskStore (default for `npm start` and tests). One Map entry per task
 * holding the record as a JSON string (compact, and every `get` hands out a private copy), the poll lease
 * expiry and the settlement flag. Records expire `ttlMs` after creation, oldest first.
 */
import type { Clock } from '../core/ports';
import type { IdempotencyEntry, IdempotencyReservation, SettlementClaim, TaskStore } from './ports';
import { isTerminal } from '../platform/task';
import type { TaskRecord } from './task-record';

/** Options of the memory store. */
export interface MemoryTaskStoreOptions {
  /** How long a record is kept after creation, in ms (default 7 days). */
  readonly ttlMs?: number;
}

/** Default retention of task records: 7 days. */
export const DEFAULT_TASK_TTL_MS = 7 * 24 * 60 * 60 * 1000;

interface Entry {
  /** The record as JSON. */
  json: string;
  /** Status of the stored record (kept beside the JSON so update can guard terminal records cheaply). */
  status: TaskRecord['status'];
  /** Expiry of the record, ms since epoch. */
  expiresAt: number;
  /** Poll lease held until this time (0: none). */
  leaseUntil: number;
  /** Settlement confirmed (for good). */
  settled: boolean;
  /** Settlement claim held until this time (0: none). */
  claimUntil: number;
}

/** Reserves between two sweeps of expired idempotency keys (their TTLs differ, so they are not in expiry order). */
const IDEMPOTENCY_SWEEP_EVERY = 256;

export class MemoryTaskStore implements TaskStore {
  private readonly entries = new Map<string, Entry>();
  private readonly idempotency = new Map<string, { entry: IdempotencyEntry; expiresAt: number }>();
  private reservesSinceSweep = 0;
  private readonly ttlMs: number;

  constructor(
    private readonly clock: Clock,
    options: MemoryTaskStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TASK_TTL_MS;
    if (!(this.ttlMs > 0)) throw new RangeError('MemoryTaskStore ttlMs must be positive');
  }

  async create(record: TaskRecord): Promise<void> {
    const now = this.clock.now();
    this.evictExpired(now);
    if (this.live(record.id, now)) throw new Error(`Task ${record.id} already exists`);
    this.entries.set(record.id, { json: JSON.stringify(record), status: record.status, expiresAt: now + this.ttlMs, leaseUntil: 0, settled: false, claimUntil: 0 });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const entry = this.live(id, this.clock.now());
    return entry ? (JSON.parse(entry.json) as TaskRecord) : undefined;
  }

  async update(record: TaskRecord): Promise<void> {
    const now = this.clock.now();
    const entry = this.live(record.id, now);
    if (!entry) {
      // Expired or never created: keep it again rather than lose a result.
      this.entries.set(record.id, { json: JSON.stringify(record), status: record.status, expiresAt: now + this.ttlMs, leaseUntil: 0, settled: false, claimUntil: 0 });
      return;
    }
    // A terminal record is final: only the same terminal status may be written again (e.g. usageSettled).
    if (isTerminal(entry.status) && record.status !== entry.status) return;
    entry.json = JSON.stringify(record);
    entry.status = record.status;
  }

  async tryAcquirePollLease(id: string, intervalMs: number): Promise<boolean> {
    const now = this.clock.now();
    const entry = this.live(id, now);
    if (!entry || entry.leaseUntil > now) return false;
    entry.leaseUntil = now + intervalMs;
    return true;
  }

  async claimSettlement(id: string, leaseMs: number): Promise<SettlementClaim> {
    const now = this.clock.now();
    const entry = this.live(id, now);
    // A record that expired from the store has nothing left to settle.
    if (!entry || entry.settled) return 'settled';
    if (entry.claimUntil > now) return 'held';
    entry.claimUntil = now + leaseMs;
    return 'claimed';
  }

  async confirmSettlement(id: string): Promise<void> {
    const entry = this.live(id, this.clock.now());
    if (entry) entry.settled = true;
  }

  async reserveIdempotencyKey(key: string, entry: IdempotencyEntry, pendingTtlMs: number): Promise<IdempotencyReservation> {
    const now = this.clock.now();
    if ((this.reservesSinceSweep += 1) >= IDEMPOTENCY_SWEEP_EVERY) {
      this.reservesSinceSweep = 0;
      for (const [k, v] of this.idempotency) if (v.expiresAt <= now) this.idempotency.delete(k);
    }
    const current = this.liveKey(key, now);
    if (current) return { outcome: 'exists', entry: { ...current } };
    this.idempotency.set(key, { entry: { ...entry, state: 'pending' }, expiresAt: now + pendingTtlMs });
    return { outcome: 'reserved' };
  }

  async completeIdempotencyKey(key: string, entry: IdempotencyEntry, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const current = this.liveKey(key, now);
    if (current && !(current.state === 'pending' && current.taskId === entry.taskId)) return false;
    this.idempotency.set(key, { entry: { ...entry, state: 'completed' }, expiresAt: now + ttlMs });
    return true;
  }

  async releaseIdempotencyKey(key: string, taskId: string): Promise<void> {
    const current = this.liveKey(key, this.clock.now());
    if (current && current.state === 'pending' && current.taskId === taskId) this.idempotency.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
    this.idempotency.clear();
  }

  private liveKey(key: string, now: number): IdempotencyEntry | undefined {
    const held = this.idempotency.get(key);
    if (held && held.expiresAt <= now) {
      this.idempotency.delete(key);
      return undefined;
    }
    return held?.entry;
  }

  /** Number of records held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private live(id: string, now: number): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /** Map order is insertion order and every entry has the same TTL, so expired entries are at the front. */
  private evictExpired(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(id);
    }
  }
}
