/**
 * `image-task-bridge generate` as a real process (the CLI entry run by node), against a real gateway and
 * sandbox hub on loopback: piped, its stderr is plain lines and its stdout the saved path; on a real
 * pseudo-terminal (util-linux `script`), it detects the terminal by itself and draws the bar.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import type { Gateway } from '../../src/http/gateway';
import { start } from '../http/gateway-support';

const ROOT = join(__dirname, '..', '..');
const KEY = 'sk-cli-process-0001';
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

let gw: Gateway;
let dir: string;

beforeAll(async () => {
  gw = await start(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', GATEWAY_API_KEYS: KEY, POLL_INTERVAL_MS: '5' }), { sandboxTiming: { queuedMs: 50, runningMs: 150 } });
  dir = mkdtempSync(join(tmpdir(), 'itb-cli-process-'));
});

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const command = (out: string): string[] => [
  process.execPath,
  '-r',
  'ts-node/register/transpile-only',
  'src/cli/main.ts',
  'generate',
  '--model',
  'NanoBanana2-0.5K',
  '--prompt',
  'A red cube',
  '--out',
  out,
  '--interval',
  '0.05',
];

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), IMAGE_TASK_BRIDGE_URL: gw.url, IMAGE_TASK_BRIDGE_KEY: KEY };
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

it('piped: plain progress lines on stderr, the saved path on stdout, exit 0', async () => {
  const out = join(dir, 'piped');
  const result = await run(process.execPath, command(out).slice(1));
  const lines = result.stderr.trimEnd().split('\n');
  const id = /^(task_\S+) queued 0%$/.exec(lines[0] ?? '')?.[1];
  expect(id).toBeDefined();
  expect(lines.slice(-2)).toStrictEqual([`${id} succeeded 100%`, `${id}: saved 1 image in ${out}`]);
  for (const line of lines.slice(1, -2)) expect(line).toMatch(new RegExp(`^${id} (queued|processing) \\d+%$`));
  expect(result.stderr).not.toContain('\x1b');
  expect(result.stdout).toBe(`${join(out, `${id}-1.png`)}\n`);
  expect(readFileSync(join(out, `${id}-1.png`)).subarray(0, 4)).toStrictEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  expect(result.code).toBe(0);
});

// Defined only where util-linux script exists (no skipped test); the in-process TTY test covers the drawing.
if (!SCRIPT) console.log('script(1) is not installed: the pseudo-terminal run is left out.');
const ptyIt = SCRIPT ? it : (): void => undefined;
ptyIt('on a pseudo-terminal: the bar is drawn in place and ends with the check mark; exit 0', async () => {
  const out = join(dir, 'pty');
  const quoted = command(out).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const result = await run(SCRIPT as string, ['-qec', quoted, '/dev/null']);
  const id = /(task_[A-Za-z0-9_-]{22,})/.exec(result.stdout)?.[1];
  expect(id).toBeDefined();
  // The terminal receives stderr and stdout together: redraws, the final bar, then the outcome and the path.
  expect(result.stdout).toContain(`\r\x1b[2K⠋ ${id} queued     ░░░░░░░░░░░░░░░░░░░░   0%`);
  expect(result.stdout).toMatch(new RegExp(`\\r\\x1b\\[2K✔ ${id} succeeded  ████████████████████ 100%  \\d+\\.\\ds\\r?\\n`));
  expect(result.stdout).toContain(`${id}: saved 1 image in ${out}`);
  expect(result.stdout).toContain(join(out, `${id}-1.png`));
  expect(result.code).toBe(0);
});
