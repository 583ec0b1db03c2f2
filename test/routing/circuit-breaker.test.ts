import { CircuitBreaker } from '../../src/routing/circuit-breaker';
import { FakeClock } from '../support/fake-clock';

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures (default 5) and reports the transition once', () => {
    const b = new CircuitBreaker(new FakeClock());
    const transitions = Array.from({ length: 5 }, () => b.recordFailure('c'));
    expect(transitions).toStrictEqual([undefined, undefined, undefined, undefined, 'opened']);
    expect(b.state('c')).toBe('open');
    expect(b.allow('c')).toBe(false);
    expect(b.failures('c')).toBe(5);
  });

  it('keeps circuits per channel', () => {
    const b = new CircuitBreaker(new FakeClock(), { failureThreshold: 1 });
    b.recordFailure('a');
    expect([b.state('a'), b.state('b'), b.allow('b')]).toStrictEqual(['open', 'closed', true]);
  });

  it('is half-open after the cool-down (default 30 s): one trial per window', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1 });
    b.recordFailure('c');
    clock.advance(29_999);
    expect([b.state('c'), b.allow('c')]).toStrictEqual(['open', false]);
    clock.advance(1);
    expect(b.state('c')).toBe('half_open');
    expect([b.allow('c'), b.allow('c')]).toStrictEqual([true, false]);
  });

  it('closes on a success in half-open', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 100 });
    b.recordFailure('c');
    clock.advance(100);
    expect(b.allow('c')).toBe(true);
    expect(b.recordSuccess('c')).toBe('closed');
    expect([b.state('c'), b.failures('c'), b.allow('c'), b.allow('c')]).toStrictEqual(['closed', 0, true, true]);
    expect(b.recordSuccess('c')).toBeUndefined();
  });

  it('re-opens on a failure in half-open, for a fresh cool-down', () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 3, coolDownMs: 100 });
    for (let i = 0; i < 3; i++) b.recordFailure('c');
    clock.advance(100);
    expect(b.allow('c')).toBe(true);
    expect(b.recordFailure('c')).toBe('reopened');
    expect(b.state('c')).toBe('open');
    clock.advance(99);
    expect(b.state('c')).toBe('open');
    clock.advance(1);
    expect(b.state('c')).toBe('half_open');
  });

  it('a success before the threshold resets the count', () => {
    const b = new CircuitBreaker(new FakeClock(), { failureThreshold: 2 });
    b.recordFailure('c');
    expect(b.recordSuccess('c')).toBeUndefined();
    expect(b.recordFailure('c')).toBeUndefined();
    expect(b.state('c')).toBe('closed');
  });

  it('rejects meaningless options', () => {
    const clock = new FakeClock();
    expect(() => new CircuitBreaker(clock, { failureThreshold: 0 })).toThrow('failureThreshold must be an integer >= 1 (got 0).');
    expect(() => new CircuitBreaker(clock, { failureThreshold: 1.5 })).toThrow('failureThreshold must be an integer >= 1 (got 1.5).');
    expect(() => new CircuitBreaker(clock, { coolDownMs: -1 })).toThrow('coolDownMs must be >= 0 (got -1).');
  });
});
