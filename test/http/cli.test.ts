/**
 * The CLI entry (main): configuration errors are one line and exit code 2; --help; serve starts, prints
 * the banner with a working development key, and stops gracefully on SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { HELP, main, type CliIo } from '../../src/cli/main';

function io(env: NodeJS.ProcessEnv): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += String(d)));
  stderr.on('data', (d) => (err += String(d)));
  return { stdout, stderr, stdin: new PassThrough(), env, out: () => out, err: () => err };
}

it.each([
  [{ TASK_STORE: 'mongo' }, 'image-task-bridge: configuration error: TASK_STORE must be memory or redis; got "mongo".\n'],
  [{ HUB_BASE_URL: 'https://hub.example.com', HUB_API_KEY: 'k' }, 'image-task-bridge: configuration error: GATEWAY_API_KEYS is required when an upstream is configured (comma-separated "key" or "key:owner").\n'],
  [{ CONFIG_FILE: '/nonexistent/bridge.json' }, 'image-task-bridge: configuration error: CONFIG_FILE /nonexistent/bridge.json cannot be read (ENOENT).\n'],
])('bad configuration %j: one line on stderr, exit code 2', async (env, expected) => {
  const x = io(env);
  expect(await main(['serve'], x)).toBe(2);
  expect(x.err()).toBe(expected);
  expect(x.out()).toBe('');
});

it('channel and price errors in CONFIG_FILE stop start-up with one line and exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'itb-cli-'));
  try {
    const file = join(dir, 'bridge.json');
    writeFileSync(file, JSON.stringify({ channels: [{ id: 'x', adapter: 'nope', base_url: 'https://x.example', api_key_env: 'X_KEY' }] }));
    const x = io({ CONFIG_FILE: file, X_KEY: 'secret-x', GATEWAY_API_KEYS: 'sk-alpha-123', PORT: '0', LOG_LEVEL: 'silent' });
    expect(await main(['serve'], x)).toBe(2);
    expect(x.err()).toMatch(/^image-task-bridge: configuration error: CONFIG_FILE channels\[0\]\.adapter: no adapter "nope" is registered \(registered: [a-z, ]+\)\.\n$/);
    writeFileSync(file, JSON.stringify({ prices: { currency: 'USD' } }));
    const y = io({ CONFIG_FILE: file });
    expect(await main(['serve'], y)).toBe(2);
    expect(y.err()).toMatch(/^image-task-bridge: configuration error: Invalid price table: [^\n]+\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('--help prints the help text; unknown commands exit 2', async () => {
  const x = io({});
  expect(await main(['--help'], x)).toBe(0);
  expect(x.out()).toBe(HELP);
  const y = io({});
  expect(await main(['frobnicate'], y)).toBe(2);
  expect(y.err()).toBe('image-task-bridge: unknown command "frobnicate". Commands: serve, translate, generate. See --help.\n');
});

it('docs/operations.md ("The server") shows the usage block of --help verbatim', () => {
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  const usage = HELP.slice(HELP.indexOf('Usage:'), HELP.indexOf('\n\n', HELP.indexOf('Usage:')) + 1);
  expect(usage).toContain('image-task-bridge generate');
  expect(page).toContain(`\`\`\`text\n${HELP.slice(0, HELP.indexOf('Usage:'))}${usage}\`\`\``);
});

it('serve (sandbox): prints URL, development key and curl line; the key works; SIGTERM stops it with code 0', async () => {
  const x = io({ PORT: '0', LOG_LEVEL: 'silent' });
  const exit = main([], x);
  for (let i = 0; i < 500 && !x.err().includes('Try it:'); i++) await new Promise((r) => setTimeout(r, 10));
  const banner = x.err();
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
  const key = /Development key \(valid until this process stops\): (sk-dev-\S+)/.exec(banner)?.[1];
  expect(banner).toContain('*** SANDBOX MODE');
  expect(url).toBeDefined();
  expect(key).toBeDefined();
  expect(banner).toContain(`curl -X POST "${url}/v1/images/tasks" -H "Authorization: Bearer ${key}"`);
  const res = await fetch(`${url}/v1/images/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'NanoBanana2-0.5K', prompt: 'A small red cube on a white desk', aspect_ratio: '1:1' }),
  });
  expect(res.status).toBe(201);
  process.emit('SIGTERM', 'SIGTERM');
  expect(await exit).toBe(0);
  expect(x.err()).toContain('image-task-bridge: SIGTERM: finishing in-flight requests, then stopping\nimage-task-bridge: stopped\n');
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
});
