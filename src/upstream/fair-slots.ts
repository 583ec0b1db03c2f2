/**
 * Fair sharing of one channel's sockets between owners. node's agent queues requests first-come first-served,
 * so one owner with hundreds of requests in flight made everyone else's submit wait behind all of them (7.3 s
 * in the attack), and the wait counted against the request's own timeout: requests timed out (504) after they
 * had reached the upstream (docs/reliability.md, "hostile clients").
 *
 * Here a request takes a slot before it gets a socket (slots = the channel's sockets, so the agent never
 * queues), and when slots are short a freed slot goes to the waiting owner holding the fewest slots (round
 * robin among equals): an owner with nothing in flight gets the next free socket, however many requests
 * another owner has queued. The request's timeout starts
 * only once it has its slot. A request that found no slot within its wait limit was never sent.
 */

interface Waiter {
  readonly grant: (release: () => void) => void;
  readonly timer: NodeJS.Timeout;
}

/** Slots of one channel, shared round robin between owners. */
export class FairSlots {
  private inUse = 0;
  /** Slots held, by owner. */
  private readonly held = new Map<string, number>();
  /** Waiting requests by owner; Map order breaks ties (an owner served moves to the back). */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('FairSlots capacity must be at least 1');
  }

  /** Slots taken now. */
  get used(): number {
    return this.inUse;
  }

  /**
   * Resolves with a release function once `owner` holds a slot; rejects with `onTimeout()` when none was free
   * within `waitMs` (the request was then never sent).
   */
  acquire(owner: string, waitMs: number, onTimeout: () => Error): Promise<() => void> {
    if (this.inUse < this.capacity && this.waiting.size === 0) {
      this.take(owner);
      return Promise.resolve(this.releaser(owner));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          const queue = this.waiting.get(owner);
          const at = queue?.indexOf(waiter) ?? -1;
          if (queue && at !== -1) {
            queue.splice(at, 1);
            if (queue.length === 0) this.waiting.delete(owner);
          }
          reject(onTimeout());
        }, waitMs),
      };
      const queue = this.waiting.get(owner);
      if (queue) queue.push(waiter);
      else this.waiting.set(owner, [waiter]);
    });
  }

  private take(owner: string): void {
    this.inUse += 1;
    this.held.set(owner, (this.held.get(owner) ?? 0) + 1);
  }

  private releaser(owner: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= 1;
      const left = (this.held.get(owner) ?? 1) - 1;
      if (left > 0) this.held.set(owner, left);
      else this.held.delete(owner);
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.inUse < this.capacity && this.waiting.size > 0) {
      let owner = '';
      let fewest = Infinity;
      for (const candidate of this.waiting.keys()) {
        const holding = this.held.get(candidate) ?? 0;
        if (holding < fewest) {
          fewest = holding;
          owner = candidate;
        }
      }
      const queue = this.waiting.get(owner) as Waiter[];
      const waiter = queue.shift() as Waiter;
      this.waiting.delete(owner);
      if (queue.length > 0) this.waiting.set(owner, queue);
      clearTimeout(waiter.timer);
      this.take(owner);
      waiter.grant(this.releaser(owner));
    }
  }
}
