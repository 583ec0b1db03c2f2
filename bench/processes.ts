/**
 * The benchmark's child processes and what it reads about them: the mock hub, the floor proxy and the
 * gateway (`cli/main.js serve`), each on 127.0.0.1 at a free port; CPU time and RSS from /proc (Linux).
 *
 * Options (env):
 * - BENCH_PROFILE=1 starts every gateway with `node --cpu-prof`; the .cpuprofile files go to BENCH_PROFILE_DIR
 *   (default: a new temp dir, printed on stderr) when the gateway stops (stopChildren waits for that).
 *   `node dist/bench/profile-summary.js <file|dir>` prints the top self-time functions and the top inclusive
 *   frames under the request handler (docs/benchmarks.md "Profile and changes").
 * - BENCH_GATEWAY_ROOT runs the gateway of another checkout (its built dist/), e.g. an old commit in a temp
 *   worktree, under the same load generator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from './load';

/** A started child and the base URL it serves. */
export interface Child {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Where the compiled project lives (dist/ is built by `npm run bench`). */
export const ROOT = join(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts a bench script (`mock-hub.js`, `floor-proxy.js`) that prints `{"port":N}` on stdout. */
export function startScript(script: string, args: string[] = []): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout?.once('data', (d: Buffer) => resolve({ child, url: `http://127.0.0.1:${(JSON.parse(String(d)) as { port: number }).port}` }));
    child.once('error', reject);
  });
}

let profileDir: string | undefined;

/** Where BENCH_PROFILE=1 writes the gateways' CPU profiles (created on first use), or undefined when off. */
export function benchProfileDir(): string | undefined {
  if (process.env.BENCH_PROFILE !== '1') return undefined;
  if (profileDir === undefined) {
    profileDir = process.env.BENCH_PROFILE_DIR || mkdtempSync(join(tmpdir(), 'itb-bench-profile-'));
    process.stderr.write(`bench: gateway CPU profiles go to ${profileDir}\n`);
  }
  return profileDir;
}

/** Starts the real server on `hubUrl` and waits for /healthz. */
export async function startGateway(hubUrl: string, env: Record<string, string>, nodeOptions: string): Promise<Child> {
  const port = await freePort();
  const dir = benchProfileDir();
  const profileArgs = dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const root = process.env.BENCH_GATEWAY_ROOT || ROOT;
  // Older checkouts had the command line in dist/src/cli.js.
  const main = [join(root, 'dist', 'src', 'cli', 'main.js'), join(root, 'dist', 'src', 'cli.js')].find((f) => existsSync(f)) ?? '';
  // BENCH_GATEWAY_NODE_ARGS: node flags NODE_OPTIONS refuses (e.g. --trace-gc); the gateway's stdout is then shown.
  const extraArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profileArgs, ...extraArgs, main, 'serve'], {
    stdio: ['ignore', extraArgs.length > 0 ? 'inherit' : 'ignore', 'inherit'],
    env: { PATH: process.env.PATH ?? '', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), HOST: '127.0.0.1', PORT: String(port), HUB_BASE_URL: hubUrl, ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  const agent = new http.Agent();
  for (let i = 0; i < 100; i++) {
    try {
      if ((await send(agent, new URL(url), { method: 'GET', path: '/healthz' })).status === 200) return { child, url };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('gateway did not become healthy in 10 s');
}

/**
 * Stops the children (SIGTERM) and waits until each has exited (SIGKILL after `graceMs`): the gateway writes its
 * CPU profile on a clean exit, and the next phase starts on a quiet machine.
 */
export async function stopChildren(children: readonly Child[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Samples the peak RSS of some processes every 200 ms until stopped. */
export class RssPeaks {
  readonly peaks: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly children: Record<string, ChildProcess>) {
    this.timer = setInterval(() => this.sample(), 200);
  }

  sample(): void {
    for (const [name, c] of Object.entries(this.children)) {
      try {
        this.peaks[name] = Math.max(this.peaks[name] ?? 0, rssMiB(c.pid));
      } catch {
        /* exited */
      }
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}

/** GET `path` and parse the JSON body. */
export async function getJson(url: string, path: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await send(new http.Agent(), new URL(url), { method: 'GET', path, headers });
  return JSON.parse(res.body) as unknown;
}
