/** Poll cadence and per-channel limits: pure functions and a small in-process limiter. */
import { DEFAULT_POLL_CADENCE } from '../../../src/adapter-kit/contract';
import { ChannelPollLimiter } from '../../../src/tasks/engine/channel-poll-limiter';
import { cadenceDelayMs, nextPollAt, retryDelayMs } from '../../../src/tasks/engine/poll-cadence';

describe('poll cadence', () => {
  test('the default cadence polls at 1 s, 2 s, 4 s, 8 s, then every 5 s', () => {
    const times: number[] = [];
    let last = 0;
    for (let i = 0; i < 7; i += 1) {
      last = nextPollAt(DEFAULT_POLL_CADENCE, { createdAt: 0, lastPollAt: last, deadlineAt: 1e9 }, 1000);
      times.push(last);
    }
    expect(times).toStrictEqual([1000, 2000, 4000, 8000, 13000, 18000, 23000]);
    expect(cadenceDelayMs(DEFAULT_POLL_CADENCE, 0)).toBe(1000);
  });

  test('never sooner than the poll interval after the last poll, never later than the deadline', () => {
    const fast = { firstMs: 10, factor: 1.1, capMs: 20 };
    expect(nextPollAt(fast, { createdAt: 0, lastPollAt: 5000, deadlineAt: 1e9 }, 1000)).toBe(6000);
    expect(nextPollAt(DEFAULT_POLL_CADENCE, { createdAt: 0, lastPollAt: 60_000, deadlineAt: 61_000 }, 1000)).toBe(61_000);
    expect(nextPollAt(DEFAULT_POLL_CADENCE, { createdAt: 0, lastPollAt: 0, deadlineAt: 500 }, 1000)).toBe(500);
  });

  test('retry delays grow with the time failing, within [first, cap]', () => {
    expect([0, 500, 1500, 7000, 600_000].map((t) => retryDelayMs(t, 1000, 60_000))).toStrictEqual([1000, 1000, 1500, 7000, 60_000]);
  });
});

/** A limiter of 4 polls a second on channel `a` at the given clock, and `take(id)`: 'polled' (released at once) or the put-off ms. */
function rateLimitedTaker(clock: () => number): (id: string) => 'polled' | number {
  const limiter = new ChannelPollLimiter({ concurrency: 100, ratePerSecond: 4 }, clock);
  return (id) => {
    const answer = limiter.tryAcquire('a', id);
    if ('release' in answer) answer.release();
    return 'release' in answer ? 'polled' : answer.retryInMs;
  };
}

describe('ChannelPollLimiter', () => {
  test('concurrency per channel: the poll over the limit is put off 250-500 ms until one is released; channels are independent', () => {
    const limiter = new ChannelPollLimiter({ concurrency: 2, ratePerSecond: 1000 }, () => 0, () => 0.5);
    const a = limiter.tryAcquire('a', 't1');
    const b = limiter.tryAcquire('a', 't2');
    expect('release' in a && 'release' in b).toBe(true);
    expect(limiter.tryAcquire('a', 't3')).toStrictEqual({ retryInMs: 375 });
    expect('release' in limiter.tryAcquire('b', 't4')).toBe(true);
    if ('release' in a) {
      a.release();
      a.release();
    }
    expect(limiter.active('a')).toBe(1);
    expect('release' in limiter.tryAcquire('a', 't3')).toBe(true);
  });

  test('rate per channel: one second of slots at once, then each put-off task gets its own later slot and passes when it comes back', () => {
    let now = 0;
    const take = rateLimitedTaker(() => now);
    expect(['t1', 't2', 't3', 't4'].map(take)).toStrictEqual(['polled', 'polled', 'polled', 'polled']);
    // A backlog is spread: each put-off task is told a different time, 250 ms apart.
    expect(['t5', 't6', 't7'].map(take)).toStrictEqual([250, 500, 750]);
    // Coming back early it waits for its own slot; at its slot it polls (the slot was taken when it was put off).
    now = 100;
    expect(take('t5')).toBe(150);
    now = 250;
    expect(take('t5')).toBe('polled');
    now = 500;
    expect(take('t6')).toBe('polled');
    // A new task queues behind the reserved slots.
    expect(take('t8')).toBe(500);
  });

  test('the slot of a put-off task that never came back is dropped a minute after its time; later slots are kept', () => {
    let now = 0;
    const take = rateLimitedTaker(() => now);
    expect(['t1', 't2', 't3', 't4', 't5'].map(take)).toStrictEqual(['polled', 'polled', 'polled', 'polled', 250]);
    // t5 (slot at 250) does not come back. A minute and a bit later the burst is free again, and the next
    // reservation (t10, slot at 60,501) drops t5's stale one.
    now = 60_251;
    expect(['t6', 't7', 't8', 't9', 't10'].map(take)).toStrictEqual(['polled', 'polled', 'polled', 'polled', 250]);
    // t5 coming back now is a new task at the end of the line, not a holder of a slot it let pass.
    expect(take('t5')).toBe(500);
    // t10's slot was kept.
    now = 60_501;
    expect(take('t10')).toBe('polled');
  });

  test('refuses nonsense limits', () => {
    expect(() => new ChannelPollLimiter({ concurrency: 0, ratePerSecond: 1 })).toThrow(RangeError);
    expect(() => new ChannelPollLimiter({ concurrency: 1, ratePerSecond: 0 })).toThrow(RangeError);
  });
});
