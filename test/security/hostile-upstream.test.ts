/**
 * Attacks from a hostile upstream (issue 10, docs/reliability.md "hostile upstreams"): a real gateway on
 * 127.0.0.1:0 in front of a scripted hub on a real loopback socket whose poll answers the test chooses.
 * Result URLs a client would render or fetch are filtered, and an upstream that over-returns is billed for n.
 */
import nock from 'nock';
import { loadConfig } from '../../src/config/config';
import { USAGE_SINK } from '../../src/di/tokens';
import { startGateway, type Gateway } from '../../src/http/gateway';
import { RecordingSink } from '../support/recording-sink';
import { json, ScriptedHub } from '../reliability/scripted-hub';

const KEY = 'sk-hostile-upstream-01';
const SAFE = 'https://cdn.hub.example/outputs/hub-1-0.png';

interface Rig {
  hub: ScriptedHub;
  gw: Gateway;
  sink: RecordingSink;
}

let rig: Rig | undefined;

async function start(env: Record<string, string> = {}): Promise<Rig> {
  nock.restore();
  const hub = new ScriptedHub();
  await hub.start();
  const sink = new RecordingSink();
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    GATEWAY_API_KEYS: `${KEY}:alice`,
    HUB_BASE_URL: hub.url,
    HUB_API_KEY: 'hub-secret-key-never-shown',
    POLL_INTERVAL_MS: '1',
    ...env,
  });
  const gw = await startGateway(config, { processMetrics: false, register: (c) => c.register(USAGE_SINK, { useValue: sink }) });
  rig = { hub, gw, sink };
  return rig;
}

afterEach(async () => {
  await rig?.gw.close();
  await rig?.hub.stop();
  rig = undefined;
});

/** Submits `body` and queries the task until it is terminal (at most 50 queries). */
async function runTask(r: Rig, body: object, images: ReadonlyArray<{ url: string }>): Promise<Record<string, unknown>> {
  r.hub.onPoll = json(200, { task_id: 'hub-1', status: 'succeeded', ready: true, progress: 100, output: { images } });
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const submitted = await fetch(`${r.gw.url}/v1/images/tasks`, { method: 'POST', headers, body: JSON.stringify(body) });
  expect(submitted.status).toBe(201);
  const { task_id } = (await submitted.json()) as { task_id: string };
  for (let i = 0; i < 50; i++) {
    const got = (await (await fetch(`${r.gw.url}/v1/images/tasks/${task_id}`, { headers })).json()) as { data: Record<string, unknown> };
    if (got.data.status === 'succeeded' || got.data.status === 'failed') return got.data;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the task did not finish');
}

const HOSTILE = [
  { url: 'javascript:alert(document.cookie)' },
  { url: 'file:///etc/passwd' },
  { url: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' },
  { url: 'https://cdn.hub.example/a b.png' },
];
const NANO_4 = { model: 'NanoBanana', prompt: 'four foxes', n: 4 };

describe('result URLs from the upstream', () => {
  it('only http(s) URLs reach the client; the refused ones are named in a warning, and only the kept one is billed', async () => {
    const r = await start();
    const task = await runTask(r, NANO_4, [...HOSTILE, { url: SAFE }]);
    expect(task.status).toBe('succeeded');
    expect(task.result_url).toBe(SAFE);
    const metadata = task.metadata as { result_urls: string[]; result_count: number; warnings: Array<{ code: string; message: string }> };
    expect(metadata.result_urls).toStrictEqual([SAFE]);
    expect(metadata.result_count).toBe(1);
    expect(metadata.warnings).toContainEqual({
      code: 'result_url_refused',
      param: 'result_urls',
      message:
        'The upstream returned 4 result URLs that are not passed on (result 1: its scheme javascript: is not http or https; result 2: its scheme file: is not http or https; result 3: its scheme data: is not http or https; result 4: it contains whitespace).',
    });
    expect(JSON.stringify(task)).not.toMatch(/javascript:alert|etc\/passwd|PHNjcmlwdD5/);
    expect(r.sink.events.map((e) => [e.status, e.result_count, e.requested_n])).toStrictEqual([['succeeded', 1, 4]]);
  });

  it('a task whose every result URL is refused fails with result_url_refused and costs nothing', async () => {
    const r = await start();
    const task = await runTask(r, NANO_4, HOSTILE);
    expect(task.status).toBe('failed');
    expect(task.result_url).toBeNull();
    expect(task.error).toStrictEqual({
      code: 'result_url_refused',
      message:
        'The upstream finished, but none of its result URLs may be passed on: result 1: its scheme javascript: is not http or https; result 2: its scheme file: is not http or https; result 3: its scheme data: is not http or https; result 4: it contains whitespace.',
    });
    expect(r.sink.events.map((e) => [e.status, e.cost])).toStrictEqual([['failed', 0]]);
  });

  it('RESULT_URL_POLICY=public also refuses metadata, loopback and private addresses', async () => {
    const r = await start({ RESULT_URL_POLICY: 'public' });
    const task = await runTask(r, NANO_4, [{ url: 'http://169.254.169.254/latest/meta-data/iam/' }, { url: 'http://127.0.0.1:6379/x.png' }, { url: SAFE }]);
    expect(task.status).toBe('succeeded');
    expect((task.metadata as { result_urls: string[] }).result_urls).toStrictEqual([SAFE]);
    expect(JSON.stringify(task)).not.toContain('meta-data');
  });

  it('RESULT_URL_POLICY=allowlist keeps only RESULT_URL_ALLOW_HOSTS', async () => {
    const r = await start({ RESULT_URL_POLICY: 'allowlist', RESULT_URL_ALLOW_HOSTS: '*.hub.example' });
    const task = await runTask(r, NANO_4, [{ url: 'https://evil.example/x.png' }, { url: SAFE }]);
    expect((task.metadata as { result_urls: string[] }).result_urls).toStrictEqual([SAFE]);
  });
});

describe('an upstream that returns more images than requested', () => {
  it('n=1 and 1,000 images: one result kept, one unit billed, a results_truncated warning', async () => {
    const r = await start();
    const images = Array.from({ length: 1000 }, (_, i) => ({ url: `https://cdn.hub.example/outputs/${i}.png` }));
    const task = await runTask(r, { model: 'NanoBanana', prompt: 'one fox' }, images);
    expect(task.status).toBe('succeeded');
    const metadata = task.metadata as { result_urls: string[]; result_count: number; warnings: unknown[] };
    expect(metadata.result_urls).toStrictEqual(['https://cdn.hub.example/outputs/0.png']);
    expect(metadata.result_count).toBe(1);
    expect(metadata.warnings).toStrictEqual([{ code: 'results_truncated', param: 'n', message: 'The upstream returned 1000 images for n=1; the first 1 is kept and billed, 999 dropped.' }]);
    expect(r.sink.events).toHaveLength(1);
    expect(r.sink.events[0]).toMatchObject({ requested_n: 1, result_count: 1, cost: 0.039 });
  });
});
