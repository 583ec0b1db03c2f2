/**
 * MemoryTaskScheduler: the in-process TaskScheduler of the memory store. A binary min-heap of due times with
 * one timer for the earliest (not one timer per task), and at most `concurrency` runs at once. Schedules live
 * in this process only, like the memory store's tasks.
 */
import type { TaskRunner, TaskScheduler } from './task-scheduler';

/** Options of the in-process scheduler. */
export interface MemoryTaskSchedulerOptions {
  /** Most runs at once (default 64). */
  readonly concurrency?: number;
  /** Delay before a run that rejected is tried again, in ms (default 1000). */
  readonly retryMs?: number;
  /** Time source in ms (default Date.now): timers are real, so this is the wall clock. */
  readonly now?: () => number;
}

interface Entry {
  readonly taskId: string;
  readonly dueAt: number;
  /** Insertion order: equal due times run first in, first out. */
  readonly seq: number;
}

/** setTimeout's longest delay; a later due time is reached in several hops. */
const MAX_TIMER_MS = 2_147_483_647;

export class MemoryTaskScheduler implements TaskScheduler {
  private readonly heap: Entry[] = [];
  /** Task ids scheduled (in the heap) or running: one schedule per task. */
  private readonly known = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly concurrency: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private runner: TaskRunner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private seq = 0;
  private stopped = false;

  constructor(options: MemoryTaskSchedulerOptions = {}) {
    this.concurrency = options.concurrency ?? 64;
    this.retryMs = options.retryMs ?? 1000;
    this.now = options.now ?? Date.now;
    if (!(this.concurrency >= 1) || !(this.retryMs > 0)) throw new RangeError('MemoryTaskScheduler concurrency must be >= 1 and retryMs > 0');
  }

  async schedule(taskId: string, delayMs: number): Promise<void> {
    if (this.stopped || this.known.has(taskId)) return;
    this.push(taskId, this.now() + Math.max(0, delayMs));
    this.pump();
  }

  async start(run: TaskRunner): Promise<void> {
    if (this.stopped) throw new Error('MemoryTaskScheduler was stopped');
    this.runner = run;
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await Promise.all([...this.running.values()]);
    this.heap.length = 0;
    this.known.clear();
  }

  async size(): Promise<number> {
    return this.known.size;
  }

  /** Starts every due run the concurrency allows, then arms the one timer for the next due time. */
  private pump(): void {
    const run = this.runner;
    if (!run || this.stopped) return;
    const now = this.now();
    while (this.running.size < this.concurrency) {
      const top = this.heap[0];
      if (!top || top.dueAt > now) break;
      this.pop();
      this.launch(run, top);
    }
    const next = this.heap[0];
    if (!next || this.running.size >= this.concurrency) {
      // A finishing run pumps again.
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerAt === next.dueAt) return;
    this.clearTimer();
    this.timerAt = next.dueAt;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next.dueAt - now)),
    );
    // The engine never keeps a process alive on its own (the server does).
    this.timer.unref();
  }

  private launch(run: TaskRunner, entry: Entry): void {
    const { taskId, dueAt } = entry;
    const done = (async () => {
      let next: number | null;
      try {
        next = await run(taskId, dueAt);
      } catch {
        next = this.retryMs;
      }
      this.running.delete(taskId);
      this.known.delete(taskId);
      if (next !== null && !this.stopped) this.push(taskId, this.now() + Math.max(0, next));
      this.pump();
    })();
    this.running.set(taskId, done);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private push(taskId: string, dueAt: number): void {
    this.known.add(taskId);
    const heap = this.heap;
    const entry: Entry = { taskId, dueAt, seq: this.seq++ };
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!before(heap[child] as Entry, last)) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}
