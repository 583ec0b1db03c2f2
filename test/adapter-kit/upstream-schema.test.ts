/**
 * The kit's helpers that cut an adapter's ceremony (src/adapter-kit/upstream-schema.ts, param-map.ts): a body read
 * with its schema or the malformed UpstreamError, an optional read, and a submit built from a mapping table.
 */
import { z } from 'zod';
import { submitFromParamMap, type ParamMap } from '../../src/adapter-kit/param-map';
import { parseOptional, parseUpstreamBody } from '../../src/adapter-kit/upstream-schema';
import { isBridgeError } from '../../src/platform/errors';

const schema = z.object({ id: z.string() });

test('parseUpstreamBody returns the parsed body', () => {
  expect(parseUpstreamBody(schema, { status: 202, body: { id: 'a', extra: 1 } }, "x's submit response")).toStrictEqual({ id: 'a' });
});

test('parseUpstreamBody throws upstream_error naming the body, the field and the status', () => {
  let caught: unknown;
  try {
    parseUpstreamBody(schema, { status: 202, body: { id: 3 } }, "x's submit response");
  } catch (err) {
    caught = err;
  }
  if (!isBridgeError(caught)) throw new Error('expected an UpstreamError');
  expect(caught.code).toBe('upstream_error');
  expect(caught.message).toBe("x's submit response is not readable: id: Invalid input: expected string, received number.");
});

test('parseOptional answers undefined for another shape', () => {
  expect(parseOptional(schema, { id: 'a' })).toStrictEqual({ id: 'a' });
  expect(parseOptional(schema, 'nope')).toBeUndefined();
});

test('submitFromParamMap applies the table and hands the body and intent to the request builder', () => {
  interface Intent {
    prompt: string;
    seed?: number;
  }
  const map = {
    prompt: { to: 'text' },
    seed: { to: 'seed', when: () => false, otherwise: 'x takes no seed' },
  } as const satisfies ParamMap<Intent>;
  const built = submitFromParamMap(map, { prompt: 'a cat', seed: 3 }, (body, intent) => ({ method: 'POST', path: `/jobs/${intent.prompt.length}`, body }));
  expect(built).toStrictEqual({
    request: { method: 'POST', path: '/jobs/5', body: { text: 'a cat' } },
    warnings: [{ code: 'parameter_ignored', param: 'seed', message: 'x takes no seed' }],
    metadata: {},
  });
});
