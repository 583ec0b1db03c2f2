import { container } from 'tsyringe';
import type { Channel } from '../../src/routing/channels';
import { AdapterRegistry } from '../../src/routing/registry';
import { WeightedChannelRouter } from '../../src/routing/router';
import { ADAPTERS, CHANNELS, CIRCUIT_BREAKER_OPTIONS, CLOCK, LOGGER, RANDOM } from '../../src/di/tokens';
import { normalizePlatformRequest } from '../../src/intent/normalize';
import { FalAdapter } from '../../adapters/fal/fal-adapter';
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import { miniAdapter } from '../support/mini-adapter';
import { CapturingLogger } from '../support/capturing-logger';
import { FakeClock } from '../support/fake-clock';
import { SeqRandom } from '../support/seq-random';


const registry = new AdapterRegistry([new HubAdapter(), miniAdapter]);

function ch(id: string, over: Partial<Channel> = {}): Channel {
  return { id, adapterId: 'hub', baseUrl: `https://${id}.test`, apiKey: `key-${id}-secret`, priority: 0, weight: 1, ...over };
}

const nano = normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a cat', output_format: 'png' } });
const nano2 = normalizePlatformRequest({ body: { model: 'NanoBanana2-1K', prompt: 'a cat' } });
const gpt = normalizePlatformRequest({ body: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024' } });
const pro8k = normalizePlatformRequest({ body: { model: 'NanoBananaPro-8K', prompt: 'a cat' } });

function router(channels: Channel[], floats: number[] = [0.5], clock = new FakeClock(), logger = new CapturingLogger()): WeightedChannelRouter {
  return new WeightedChannelRouter(channels, registry, new SeqRandom(floats), clock, logger);
}

const ids = (list: readonly Channel[]): string[] => list.map((c) => c.id);

describe('WeightedChannelRouter: ordering', () => {
  it('orders by priority, highest first', () => {
    const r = router([ch('low', { priority: 0 }), ch('high', { priority: 10 }), ch('mid', { priority: 5 }), ch('neg', { priority: -1 })]);
    expect(ids(r.candidates(nano))).toStrictEqual(['high', 'mid', 'low', 'neg']);
  });

  it('orders channels of one priority by weighted random draws', () => {
    const channels = [ch('a', { weight: 1 }), ch('b', { weight: 3 })];
    // total 4: float 0.1 -> 0.4 falls in a's share [0,1); 0.5 -> 2 falls in b's share [1,4).
    expect(ids(router(channels, [0.1]).candidates(nano))).toStrictEqual(['a', 'b']);
    expect(ids(router(channels, [0.5]).candidates(nano))).toStrictEqual(['b', 'a']);
    expect(ids(router(channels, [0.25]).candidates(nano))).toStrictEqual(['b', 'a']);
  });

  it('gives each channel first place in proportion to its weight', () => {
    const floats = Array.from({ length: 100 }, (_, i) => i / 100);
    const r = router([ch('a', { weight: 1 }), ch('b', { weight: 3 }), ch('c', { weight: 6 })], floats);
    const first: Record<string, number> = { a: 0, b: 0, c: 0 };
    // Each call consumes 2 draws (3 channels, the last one is forced): 100 calls walk the cycle twice.
    for (let i = 0; i < 100; i++) {
      const id = r.candidates(nano)[0]?.id as string;
      first[id] = (first[id] ?? 0) + 1;
    }
    expect(first).toStrictEqual({ a: 10, b: 30, c: 60 });
  });

  it('puts weight-0 channels after the weighted ones of the same priority, in config order', () => {
    const r = router([ch('standby-1', { weight: 0 }), ch('main'), ch('standby-2', { weight: 0 }), ch('backup', { priority: -1 })], [0.99]);
    expect(ids(r.candidates(nano))).toStrictEqual(['main', 'standby-1', 'standby-2', 'backup']);
  });

  it('returns channels with their configuration unchanged', () => {
    const only = ch('only', { models: ['NanoBanana'] });
    expect(router([only]).candidates(nano)).toStrictEqual([only]);
  });
});

describe('WeightedChannelRouter: filtering', () => {
  it('keeps only channels whose models list has the platform model (no list: every model)', () => {
    const r = router([ch('nano-only', { models: ['NanoBanana'], priority: 1 }), ch('nb2', { models: ['NanoBanana2-1K', 'NanoBanana2-2K'] }), ch('all', { priority: -1 })]);
    expect(ids(r.candidates(nano))).toStrictEqual(['nano-only', 'all']);
    expect(ids(r.candidates(nano2))).toStrictEqual(['nb2', 'all']);
    expect(ids(r.candidates(gpt))).toStrictEqual(['all']);
  });

  it('keeps only channels whose adapter serves the intent', () => {
    const r = router([ch('mini', { adapterId: 'mini', priority: 5 }), ch('hub')]);
    expect(ids(r.candidates(nano))).toStrictEqual(['mini', 'hub']);
    expect(ids(r.candidates(gpt))).toStrictEqual(['hub']);
    const twoImages = normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'a cat', n: 2 } });
    expect(ids(r.candidates(twoImages))).toStrictEqual(['hub']);
  });

  it('says why when no adapter serves the intent', () => {
    const r = router([ch('hub'), ch('mini', { adapterId: 'mini' })]);
    expect(() => r.candidates(pro8k)).toThrow(
      expect.objectContaining({
        code: 'model_unavailable',
        httpStatus: 400,
        param: 'model',
        message: 'NanoBananaPro-8K is not available: resolution 8K is not served by any upstream today (served: 1K, 2K, 4K). It is not downgraded silently; choose another model.',
      }),
    );
  });

  it('says so when adapters could serve the model but no channel offers it', () => {
    const r = router([ch('nano-only', { models: ['NanoBanana'] })]);
    expect(() => r.candidates(gpt)).toThrow(
      expect.objectContaining({
        code: 'model_unavailable',
        message: 'gpt-image-2 is not available: no configured upstream channel offers gpt-image-2. It is not downgraded silently; choose another model.',
      }),
    );
  });

  it('names the parameter and its limit when the only channel cannot take a value (not "choose another model")', () => {
    const falOnly = new WeightedChannelRouter([ch('fal-main', { adapterId: 'fal' })], new AdapterRegistry([new HubAdapter(), new FalAdapter()]), new SeqRandom([0.5]), new FakeClock(), new CapturingLogger());
    const fiveImages = normalizePlatformRequest({ body: { model: 'gpt-image-2', prompt: 'a cat', size: '1024x1024', n: 5 } });
    expect(() => falOnly.candidates(fiveImages)).toThrow(
      expect.objectContaining({
        code: 'model_unavailable',
        httpStatus: 400,
        param: 'n',
        message: 'n is 5, but gpt-image-2 takes at most 4 images per task on this deployment (the platform allows 1-8); send n of 4 or less.',
      }),
    );
    const shortPrompt = normalizePlatformRequest({ body: { model: 'NanoBanana', prompt: 'ok' } });
    expect(() => falOnly.candidates(shortPrompt)).toThrow(
      expect.objectContaining({ param: 'prompt', message: 'prompt is 2 characters, but NanoBanana needs at least 3 on this deployment; write a longer prompt.' }),
    );
    // With the hub beside fal, the hub serves what fal cannot: the limit is fal's, not the deployment's.
    const both = new WeightedChannelRouter([ch('fal-main', { adapterId: 'fal', priority: 1 }), ch('hub')], new AdapterRegistry([new HubAdapter(), new FalAdapter()]), new SeqRandom([0.5]), new FakeClock(), new CapturingLogger());
    expect(ids(both.candidates(fiveImages))).toStrictEqual(['hub']);
    expect(ids(both.candidates(shortPrompt))).toStrictEqual(['hub']);
  });

  it('with no channel at all', () => {
    expect(() => router([]).candidates(nano)).toThrow(
      expect.objectContaining({ code: 'model_unavailable', message: 'NanoBanana is not available: no upstream channel is configured. It is not downgraded silently; choose another model.' }),
    );
  });
});

describe('WeightedChannelRouter: circuit breaker', () => {
  it('moves a channel last after 5 consecutive failures, and not before', () => {
    const r = router([ch('primary', { priority: 1 }), ch('secondary')]);
    for (let i = 0; i < 4; i++) r.reportFailure('primary');
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
    r.reportFailure('primary');
    expect(r.circuitState('primary')).toBe('open');
    expect(ids(r.candidates(nano))).toStrictEqual(['secondary', 'primary']);
  });

  it('a success resets the count of consecutive failures', () => {
    const r = router([ch('primary', { priority: 1 }), ch('secondary')]);
    for (let i = 0; i < 4; i++) r.reportFailure('primary');
    r.reportSuccess('primary');
    for (let i = 0; i < 4; i++) r.reportFailure('primary');
    expect(r.circuitState('primary')).toBe('closed');
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
  });

  it('still offers an ejected channel when it is the only one', () => {
    const r = router([ch('only')]);
    for (let i = 0; i < 5; i++) r.reportFailure('only');
    expect(ids(r.candidates(nano))).toStrictEqual(['only']);
  });

  it('orders several ejected channels by priority after the healthy ones', () => {
    const r = router([ch('a', { priority: 3 }), ch('b', { priority: 2 }), ch('c', { priority: 1 })]);
    for (let i = 0; i < 5; i++) {
      r.reportFailure('a');
      r.reportFailure('b');
    }
    expect(ids(r.candidates(nano))).toStrictEqual(['c', 'a', 'b']);
  });

  it('after the cool-down lets one trial through (half-open); a success closes the circuit', () => {
    const clock = new FakeClock();
    const logger = new CapturingLogger();
    const r = router([ch('primary', { priority: 1 }), ch('secondary')], [0.5], clock, logger);
    for (let i = 0; i < 5; i++) r.reportFailure('primary');
    clock.advance(29_999);
    expect(ids(r.candidates(nano))).toStrictEqual(['secondary', 'primary']);
    clock.advance(1);
    expect(r.circuitState('primary')).toBe('half_open');
    // The first caller after the cool-down gets the trial; concurrent callers still see it last.
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
    expect(ids(r.candidates(nano))).toStrictEqual(['secondary', 'primary']);
    r.reportSuccess('primary');
    expect(r.circuitState('primary')).toBe('closed');
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
    expect(logger.lines.map((l) => [l.level, l.msg, l.fields])).toStrictEqual([
      ['warn', 'upstream primary failed 5 times in a row; it is tried last until it recovers', { channel: 'primary', circuit: 'open', failures: 5 }],
      ['info', 'upstream primary recovered; its circuit is closed again', { channel: 'primary', circuit: 'closed' }],
    ]);
    expect(logger.text()).not.toContain('key-primary-secret');
  });

  it('a failed trial re-opens the circuit for another full cool-down', () => {
    const clock = new FakeClock();
    const r = router([ch('primary', { priority: 1 }), ch('secondary')], [0.5], clock);
    for (let i = 0; i < 5; i++) r.reportFailure('primary');
    clock.advance(30_000);
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
    r.reportFailure('primary');
    expect(r.circuitState('primary')).toBe('open');
    clock.advance(29_999);
    expect(ids(r.candidates(nano))).toStrictEqual(['secondary', 'primary']);
    clock.advance(1);
    expect(ids(r.candidates(nano))).toStrictEqual(['primary', 'secondary']);
  });

  it('offers a new trial when the last one was never reported, one cool-down later', () => {
    const clock = new FakeClock();
    const r = router([ch('primary', { priority: 1 }), ch('secondary')], [0.5], clock);
    for (let i = 0; i < 5; i++) r.reportFailure('primary');
    clock.advance(30_000);
    expect(ids(r.candidates(nano))[0]).toBe('primary');
    clock.advance(29_999);
    expect(ids(r.candidates(nano))[0]).toBe('secondary');
    clock.advance(1);
    expect(ids(r.candidates(nano))[0]).toBe('primary');
  });

  it('honours configured breaker options', () => {
    const clock = new FakeClock();
    const c = container.createChildContainer();
    c.register(ADAPTERS, { useValue: new HubAdapter() });
    c.register(AdapterRegistry, { useClass: AdapterRegistry });
    c.register(CHANNELS, { useValue: [ch('primary', { priority: 1 }), ch('secondary')] });
    c.register(RANDOM, { useValue: new SeqRandom() });
    c.register(CLOCK, { useValue: clock });
    c.register(CIRCUIT_BREAKER_OPTIONS, { useValue: { failureThreshold: 2, coolDownMs: 1_000 } });
    const r = c.resolve(WeightedChannelRouter);
    r.reportFailure('primary');
    expect(r.circuitState('primary')).toBe('closed');
    r.reportFailure('primary');
    expect(r.circuitState('primary')).toBe('open');
    clock.advance(1_000);
    expect(r.circuitState('primary')).toBe('half_open');
  });
});

describe('WeightedChannelRouter: set-up', () => {
  it('finds channels by id', () => {
    const a = ch('a');
    const r = router([a, ch('b')]);
    expect(r.byId('a')).toBe(a);
    expect(r.byId('zzz')).toBeUndefined();
  });

  it('resolves from a container (logger and breaker options optional)', () => {
    const c = container.createChildContainer();
    c.register(ADAPTERS, { useValue: new HubAdapter() });
    c.register(AdapterRegistry, { useClass: AdapterRegistry });
    c.register(CHANNELS, { useValue: [ch('hub')] });
    c.register(RANDOM, { useValue: new SeqRandom() });
    c.register(CLOCK, { useValue: new FakeClock() });
    expect(ids(c.resolve(WeightedChannelRouter).candidates(nano))).toStrictEqual(['hub']);
    c.register(LOGGER, { useValue: new CapturingLogger() });
    expect(ids(c.resolve(WeightedChannelRouter).candidates(nano))).toStrictEqual(['hub']);
  });

  it('rejects duplicate ids, unknown adapters and bad weights at start-up', () => {
    expect(() => router([ch('a'), ch('a')])).toThrow(expect.objectContaining({ name: 'ConfigError', message: 'Two channels have the id "a"; channel ids must be unique.' }));
    expect(() => router([ch('a', { adapterId: 'nope' })])).toThrow(expect.objectContaining({ name: 'ConfigError', message: 'No adapter is registered with the id "nope" (registered: hub, mini).' }));
    expect(() => router([ch('a', { weight: -1 })])).toThrow(expect.objectContaining({ name: 'ConfigError', message: 'Channel a has weight -1; weights must be finite and >= 0.' }));
  });
});
