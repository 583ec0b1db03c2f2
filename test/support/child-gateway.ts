/**
 * Gateways as child processes for restart and crash tests: node with ts-node's transpile-only hook runs a
 * script (default the real CLI, `src/cli/main.ts serve`), with only the given environment. Every JSON log line the
 * child writes on stdout is kept; the promise resolves once it logs `listening`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A running child gateway. */
export interface ChildGateway {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  /** Every JSON log line the process wrote on stdout. */
  readonly lines: Array<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

const running = new Set<ChildGateway>();

/** Starts a gateway child process; resolves once it logs `listening`. `script` is relative to the repository root. */
export async function spawnGateway(name: string, env: Record<string, string>, script: readonly string[] = ['src/cli/main.ts', 'serve']): Promise<ChildGateway> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ...script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  let onListening: (url: string) => void = () => undefined;
  const listening = new Promise<string>((resolve) => (onListening = resolve));
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (line.event === 'listening') onListening(String(line.url));
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await Promise.race([
    listening,
    exited.then((code) => {
      throw new Error(`${name} exited (${code}) before listening: ${stderr.slice(0, 2000)}`);
    }),
  ]);
  const proc: ChildGateway = { name, child, url, lines, exited };
  running.add(proc);
  return proc;
}

/** Stops a child with `signal` and waits for it to exit. */
export async function stopGateway(proc: ChildGateway, signal: NodeJS.Signals): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  await proc.exited;
  running.delete(proc);
}

/** Kills every child still running (for afterAll/afterEach). */
export async function stopAllGateways(): Promise<void> {
  for (const proc of [...running]) await stopGateway(proc, 'SIGKILL');
}
