/**
 * The benchmark's child processes and what it reads about them: the mock hub, the floor proxy and the
 * gateway (`cli/main.js serve`), each on 127.0.0.1 at a free port; CPU time and RSS from /proc (Linux).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
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

/** Starts the real server on `hubUrl` and waits for /healthz. */
export async function startGateway(hubUrl: string, env: Record<string, string>, nodeOptions: string): Promise<Child> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve'], {
    stdio: ['ignore', 'ignore', 'inherit'],
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
