/**
 * Reference URLs from a hostile client (issue 10, docs/reliability.md "hostile clients"): what the URL policy
 * checks is exactly what the upstream is sent, URLs that parsers read differently are refused, and presigned
 * query strings stay out of warnings and logs. A real gateway on 127.0.0.1:0, a nock'ed hub.
 */
import nock from 'nock';
import { LOGGER } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { CapturingLogger } from '../support/capturing-logger';
import { auth, HUB, hubConfig, KEY_A, postJson, start } from '../http/gateway-support';

const ACCEPTED = { task_id: 'hub-job-1', status: 'queued', ready: false };
const PRESIGNED =
  'https://bucket.s3.amazonaws.com/refs/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

let gw: Gateway;
const logger = new CapturingLogger();
beforeAll(async () => {
  gw = await start(hubConfig({ LOG_LEVEL: 'debug' }), { register: (c) => c.register(LOGGER, { useValue: logger }) });
});
afterAll(() => gw.close());
afterEach(() => nock.cleanAll());

const tasks = (): string => `${gw.url}/v1/images/tasks`;

describe('reference URLs that parsers read differently are refused', () => {
  it.each([
    ['a backslash before @ (example.com to WHATWG, 127.0.0.1 to curl and Python)', 'http://example.com\\@127.0.0.1:6379/x.png', 'a backslash'],
    ['a backslash for a slash', 'https:\\\\img.example.com\\a.png', 'a backslash'],
    ['a tab inside the host', 'https://img.exa\tmple.com/a.png', 'whitespace'],
    ['a newline before @', 'https://img.example.com\n@127.0.0.1/a.png', 'whitespace'],
    ['a leading space', ' https://img.example.com/a.png', 'whitespace'],
    ['a NUL byte', 'https://img.example.com/a\u0000.png', 'a control character'],
  ])('%s: 400 invalid_parameter, no upstream call', async (_name, url, what) => {
    const untouched = nock(HUB).post('/hub/v1/tasks').reply(201, ACCEPTED);
    const r = await postJson(tasks(), { model: 'NanoBanana', prompt: 'p', image: url }, auth(KEY_A));
    expect(r.status).toBe(400);
    expect(r.body).toStrictEqual({
      code: 'invalid_parameter',
      message: `image must not contain ${what}: URL parsers disagree on where such a URL points; percent-encode it.`,
      param: 'image',
      data: null,
    });
    expect(untouched.isDone()).toBe(false);
  });

  it('the upstream is sent the normalized URL that was checked, not the client text', async () => {
    const scope = nock(HUB)
      .post('/hub/v1/tasks', (b: { input?: { image_urls?: string[] } }) => JSON.stringify(b.input?.image_urls) === JSON.stringify(['https://img.example.com/a.png', 'https://img.example.com/b%20c.png']))
      .reply(201, ACCEPTED);
    const r = await postJson(tasks(), { model: 'NanoBanana', prompt: 'p', images: ['HTTPS://IMG.Example.COM:443/refs/../a.png', 'https://img.example.com/b%20c.png'] }, auth(KEY_A));
    expect(r.status).toBe(201);
    scope.done();
  });
});

describe('presigned reference URLs', () => {
  it('their query strings appear in no warning and no log line; the upstream still gets the whole URL', async () => {
    logger.lines.length = 0;
    const scope = nock(HUB)
      .post('/hub/v1/tasks', (b: { input?: { image_urls?: string[] } }) => JSON.stringify(b.input?.image_urls) === JSON.stringify([PRESIGNED]))
      .reply(201, ACCEPTED);
    const r = await postJson(tasks(), { model: 'NanoBanana', prompt: 'p', image: PRESIGNED, images: [PRESIGNED] }, auth(KEY_A));
    expect(r.status).toBe(201);
    scope.done();
    const warnings = (r.body as { metadata: { warnings: unknown[] } }).metadata.warnings;
    expect(warnings).toStrictEqual([
      { code: 'duplicate_reference', param: 'images', message: 'A reference image was given more than once (https://bucket.s3.amazonaws.com/refs/a.png?[redacted]); it is sent once.' },
    ]);
    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('refs/a.png?[redacted]');
    expect(logged).not.toMatch(/X-Amz-Signature|X-Amz-Credential|AKIAEXAMPLE|0123456789abcdef/);
  });

  it('an upstream error quoting a presigned URL has its query string removed', async () => {
    logger.lines.length = 0;
    nock(HUB).post('/hub/v1/tasks').reply(422, { error: { message: `could not fetch image_urls[0]: ${PRESIGNED.replace('X-Amz-Signature', 'sig')} (403)` } });
    const r = await postJson(tasks(), { model: 'NanoBanana', prompt: 'p', image: PRESIGNED }, auth(KEY_A));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('https://bucket.s3.amazonaws.com/refs/a.png?[redacted]');
    expect(JSON.stringify([r.body, logger.lines])).not.toMatch(/X-Amz-Credential|AKIAEXAMPLE|0123456789abcdef|X-Amz-Date/);
  });
});
