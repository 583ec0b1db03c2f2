import pino from 'pino';
import { Writable } from 'node:stream';
import type { Logger, LogLevelName } from '../../src/core/ports';
import { levelEnabled, withBindings } from '../../src/util/bound-logger';

function recorder(enabled?: (level: LogLevelName) => boolean): { logger: Logger; lines: Array<[string, object, string | undefined]> } {
  const lines: Array<[string, object, string | undefined]> = [];
  const logger: Logger = {
    debug: (obj, msg) => lines.push(['debug', obj, msg]),
    info: (obj, msg) => lines.push(['info', obj, msg]),
    warn: (obj, msg) => lines.push(['warn', obj, msg]),
    error: (obj, msg) => lines.push(['error', obj, msg]),
    child: () => logger,
    ...(enabled ? { isLevelEnabled: enabled } : {}),
  };
  return { logger, lines };
}

describe('withBindings', () => {
  it('adds the bindings to every line, the line fields winning', () => {
    const { logger, lines } = recorder();
    const log = withBindings(logger, { request_id: 'r1', owner: 'o' }).child({ task_id: 't1' });
    log.info({ owner: 'other', event: 'x' }, 'hello');
    log.error({}, 'bad');
    expect(lines).toEqual([
      ['info', { request_id: 'r1', owner: 'other', task_id: 't1', event: 'x' }, 'hello'],
      ['error', { request_id: 'r1', owner: 'o', task_id: 't1' }, 'bad'],
    ]);
  });

  it('writes nothing, and builds nothing, for a level the logger has turned off', () => {
    const { logger, lines } = recorder((level) => level === 'warn' || level === 'error');
    const log = withBindings(logger, { request_id: 'r1' });
    log.debug({ a: 1 }, 'd');
    log.info({ a: 2 }, 'i');
    log.warn({ a: 3 }, 'w');
    expect(lines).toEqual([['warn', { request_id: 'r1', a: 3 }, 'w']]);
    expect(levelEnabled(log, 'info')).toBe(false);
    expect(levelEnabled(log, 'error')).toBe(true);
  });

  it('follows a pino logger whose level changes at run time', () => {
    const out: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => (out.push(chunk.toString()), cb()) });
    const base = pino({ level: 'warn' }, sink);
    const log = withBindings(base as unknown as Logger, { request_id: 'r9' });
    log.info({ n: 1 }, 'hidden');
    base.level = 'info';
    log.info({ n: 2 }, 'shown');
    expect(out.map((l) => JSON.parse(l) as { msg: string; n: number; request_id: string }).map(({ msg, n, request_id }) => ({ msg, n, request_id }))).toEqual([{ msg: 'shown', n: 2, request_id: 'r9' }]);
  });
});
