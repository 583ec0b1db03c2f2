/**
 * `image-task-bridge generate` against a real gateway on a loopback socket in front of the real sandbox hub.
 * The gateway, the sandbox and the client share one test clock that moves only when the client waits between
 * queries (100 ms per wait), so the states the client sees, and so its output, are exact: queued until
 * 150 ms, processing 30% until 300 ms, 70% until 450 ms, then succeeded.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { GENERATE_HELP } from '../../src/cli/generate-options';
import { runGenerate, type GenerateClock } from '../../src/cli/generate';
import { main } from '../../src/cli/main';
import { loadConfig } from '../../src/config/config';
import { CLOCK } from '../../src/di/tokens';
import type { Gateway } from '../../src/http/gateway';
import { startSandboxHub, type SandboxHub } from '../../src/sandbox';
import { start } from '../http/gateway-support';

const KEY = 'sk-cli-test-0001';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let now = 1_800_000_000_000;
const clock: GenerateClock = {
  now: () => now,
  sleep: async (ms) => {
    now += ms;
  },
};

let sandbox: SandboxHub;
let gw: Gateway;
let dir: string;
let inputPng: string;

beforeAll(async () => {
  sandbox = await startSandboxHub({ clock: () => now, timing: { queuedMs: 150, runningMs: 300 } });
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    GATEWAY_API_KEYS: `${KEY}:alice`,
    HUB_BASE_URL: sandbox.baseUrl,
    HUB_API_KEY: sandbox.apiKey,
    POLL_INTERVAL_MS: '50',
    QUERY_WAIT_MS: '20000',
  });
  gw = await start(config, { register: (c) => c.register(CLOCK, { useValue: { now: () => now } }) });
  dir = mkdtempSync(join(tmpdir(), 'itb-cli-generate-'));
  inputPng = join(dir, 'input.png');
  writeFileSync(inputPng, await sharp({ create: { width: 40, height: 30, channels: 3, background: '#33aa66' } }).png().toBuffer());
});

afterAll(async () => {
  await gw?.close();
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function generate(args: string[], options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (options.tty) Object.assign(stderr, { isTTY: true });
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += String(d)));
  stderr.on('data', (d) => (err += String(d)));
  const env = options.env ?? { IMAGE_TASK_BRIDGE_URL: gw.url, IMAGE_TASK_BRIDGE_KEY: KEY };
  const code = await runGenerate(args, { stdout, stderr, env }, clock);
  return { code, out, err };
}

const outDir = (name: string): string => join(dir, name);
const taskIdOf = (text: string): string => /(task_[A-Za-z0-9_-]{22,})/.exec(text)?.[1] ?? 'no task id printed';

describe('piped output (plain lines)', () => {
  it('text2image: one line per change, the saved path on stdout, a real PNG on disk, exit 0', async () => {
    const out = outDir('plain');
    const run = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A red cube', '--aspect-ratio', '1:1', '--out', out, '--interval', '0.1']);
    const id = taskIdOf(run.err);
    expect(run.err).toBe([`${id} queued 0%`, `${id} processing 30%`, `${id} processing 70%`, `${id} succeeded 100%`, `${id}: saved 1 image in ${out}`, ''].join('\n'));
    expect(run.out).toBe(`${join(out, `${id}-1.png`)}\n`);
    expect(readFileSync(join(out, `${id}-1.png`)).subarray(0, 8)).toStrictEqual(PNG_MAGIC);
    expect(run.code).toBe(0);
  });

  it('multipart: a local --image is uploaded (the task is image2image); conversions are printed as warnings; n images are saved', async () => {
    const out = outDir('multipart');
    const run = await generate(['--model', 'gpt-image-2', '--prompt', 'Studio photo', '--image', inputPng, '--size', '1920x1080', '--n', '2', '--out', out, '--interval=0.1']);
    const id = taskIdOf(run.err);
    expect(run.err.split('\n')).toStrictEqual([
      `${id} queued 0%`,
      'warning: size_adjusted (size): The upstream needs edges that are multiples of 16; size 1920x1080 was generated as 1920x1088.',
      `${id} processing 30%`,
      `${id} processing 70%`,
      `${id} succeeded 100%`,
      `${id}: saved 2 images in ${out}`,
      '',
    ]);
    expect(run.out).toBe(`${join(out, `${id}-1.png`)}\n${join(out, `${id}-2.png`)}\n`);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name)).subarray(0, 8)).toStrictEqual(PNG_MAGIC);
    const queried = (await (await fetch(`${gw.url}/v1/images/tasks/${id}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { data: { metadata: { task_type: string } } };
    expect(queried.data.metadata.task_type).toBe('image2image');
    expect(run.code).toBe(0);
  });
});

describe('on a terminal (stderr.isTTY)', () => {
  it('draws one line in place: spinner, status, bar, percent, elapsed; then the outcome on its own line', async () => {
    const out = outDir('tty');
    const run = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A red cube', '--out', out, '--interval', '0.1'], { tty: true });
    const id = taskIdOf(run.err);
    const clear = '\r\x1b[2K';
    const bar = (filled: number): string => `${'█'.repeat(filled)}${'░'.repeat(20 - filled)}`;
    expect(run.err).toBe(
      [
        `${clear}⠋ ${id} queued     ${bar(0)}   0%  0.0s`,
        `${clear}⠙ ${id} queued     ${bar(0)}   0%  0.1s`,
        `${clear}⠹ ${id} processing ${bar(6)}  30%  0.2s`,
        `${clear}⠸ ${id} processing ${bar(14)}  70%  0.3s`,
        `${clear}⠼ ${id} processing ${bar(14)}  70%  0.4s`,
        `${clear}✔ ${id} succeeded  ${bar(20)} 100%  0.5s`,
        `\n${id}: saved 1 image in ${out}\n`,
      ].join(''),
    );
    expect(run.out).toBe(`${join(out, `${id}-1.png`)}\n`);
    expect(run.code).toBe(0);
  });

  it('--progress plain on a terminal, and TERM=dumb, give plain lines', async () => {
    const env = { IMAGE_TASK_BRIDGE_URL: gw.url, IMAGE_TASK_BRIDGE_KEY: KEY, TERM: 'dumb' };
    const run = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A cube', '--out', outDir('dumb'), '--interval', '0.1'], { tty: true, env });
    expect(run.err).not.toContain('\x1b');
    expect(run.err.split('\n')[0]).toMatch(/^task_\S+ queued 0%$/);
    const forced = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A cube', '--out', outDir('forced'), '--interval', '0.1', '--progress', 'plain'], { tty: true });
    expect(forced.err).not.toContain('\x1b');
    expect([run.code, forced.code]).toStrictEqual([0, 0]);
  });
});

describe('exit codes by outcome', () => {
  it('1: the task failed (the reason is printed)', async () => {
    const run = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A cube [sandbox:fail]', '--out', outDir('fail'), '--interval', '0.1']);
    const id = taskIdOf(run.err);
    expect(run.err.split('\n').slice(-3)).toStrictEqual([
      `${id} failed 100%`,
      `image-task-bridge generate: ${id} failed: content_policy: The output was blocked by the content policy (sandbox mode fail).`,
      '',
    ]);
    expect([run.code, run.out]).toStrictEqual([1, '']);
  });

  it('2: bad usage, with the reason on one line', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv | undefined, string]> = [
      [['--model', 'gpt-image-2', '--prompt', 'x'], undefined, 'missing --out. See generate --help.'],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', 'o', '--colour', 'red'], undefined, 'unknown option "--colour". See generate --help.'],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', 'o', '--n', 'two'], undefined, '--n must be a whole number; got "two".'],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', 'o'], { IMAGE_TASK_BRIDGE_URL: gw.url }, 'no API key: set IMAGE_TASK_BRIDGE_KEY (or pass --key).'],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', 'o', '--base-url', 'ftp://x'], undefined, 'the base URL must be http or https; got ftp:'],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', outDir('u'), '--image', join(dir, 'missing.png')], undefined, `--image ${join(dir, 'missing.png')}: cannot read the file (ENOENT); give a local image file or an http(s) URL.`],
      [['--model', 'gpt-image-2', '--prompt', 'x', '--out', inputPng], undefined, `--out ${inputPng}: not a writable directory (EEXIST).`],
    ];
    for (const [args, env, message] of cases) {
      const run = await generate(args, env ? { env } : {});
      expect([run.code, run.err, run.out]).toStrictEqual([2, `image-task-bridge generate: ${message}\n`, '']);
    }
  });

  it('3: the bridge answered an HTTP error (code, param and message printed); a wrong key too', async () => {
    const run = await generate(['--model', 'NanoBanana9', '--prompt', 'x', '--out', outDir('api')]);
    expect(run.err).toMatch(/^image-task-bridge generate: HTTP 400 model_not_found \(model\): .*NanoBanana2-0\.5K.*\n$/);
    expect(run.code).toBe(3);
    const unauthorized = await generate(['--model', 'NanoBanana', '--prompt', 'x', '--out', outDir('api'), '--key', 'sk-wrong']);
    expect(unauthorized.err).toBe('image-task-bridge generate: HTTP 401 unauthorized: Missing or unknown API key; send the header "Authorization: Bearer <key>".\n');
    expect(unauthorized.err).not.toContain('sk-wrong');
    expect(unauthorized.code).toBe(3);
  });

  it('4: the bridge cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const run = await generate(['--model', 'NanoBanana', '--prompt', 'x', '--out', outDir('net'), '--base-url', `http://127.0.0.1:${port}`]);
    expect([run.code, run.err]).toStrictEqual([4, `image-task-bridge generate: cannot reach the bridge at http://127.0.0.1:${port} (ECONNREFUSED).\n`]);
  });

  it('5: still running at --timeout (how to query it later is printed)', async () => {
    const run = await generate(['--model', 'NanoBanana2-0.5K', '--prompt', 'A cube [sandbox:never]', '--out', outDir('slow'), '--interval', '0.1', '--timeout', '0.3']);
    const id = taskIdOf(run.err);
    expect(run.err.split('\n').slice(-2)).toStrictEqual([`image-task-bridge generate: ${id} is still running after 0.3 s; query it later: GET ${gw.url}/v1/images/tasks/${id}`, '']);
    expect(run.code).toBe(5);
  });
});

it('main dispatches generate; generate --help prints its help, which docs/cli.md shows verbatim', async () => {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += String(d)));
  expect(await main(['generate', '--help'], { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} })).toBe(0);
  expect(out).toBe(GENERATE_HELP);
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8');
  expect(page).toContain(`\`\`\`text\n${GENERATE_HELP}\`\`\``);
});
