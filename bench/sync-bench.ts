/**
 * The synchronous-upstream phase (docs/benchmarks.md "Synchronous upstream"): one gateway instance with a gemini
 * channel on bench/mock-gemini.ts, which answers each generateContent after BENCH_SYNC_DELAY_MS (2,000) with a
 * BENCH_SYNC_IMAGE_BYTES (2 MiB) image as base64. BENCH_SYNC_TASKS (200) NanoBanana tasks are submitted at once;
 * the engine makes the calls in the background and stores each image in the filesystem BlobStore; a client queries
 * every task once a second until all are terminal. Reported: the gateway's peak RSS, its event-loop delay
 * (perf_hooks monitorEventLoopDelay, p50/p99/max, loaded by bench/event-loop-probe.ts), CPU, the submit latency,
 * the total time from the first submit until every task was seen terminal, and the most calls open at once.
 *
 * `npm run bench` runs it once (with the engine's defaults) as its last phase; alone:
 * `npm run build && node dist/bench/sync-bench.js` (BENCH_QUICK=1: 50 tasks; BENCH_SYNC_ENGINE_CONCURRENCY and
 * BENCH_SYNC_POLL_CONCURRENCY set the gateway's ENGINE_CONCURRENCY and POLL_CONCURRENCY_PER_CHANNEL, which bounds
 * a synchronous channel's calls in flight: a call is the engine's poll of the task).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, send } from './load';
import { BENCH_CLIENT_KEY } from './floor-requests';
import { gcText, loopProbe, type LoopFigures } from './loop-probe';
import { cpuMs, getJson, RssPeaks, rssMiB, startGateway, startScript, stopChildren, type Child } from './processes';

/** What one synchronous-upstream run measured. */
export interface SyncFigures {
  tasks: number;
  upstreamDelayMs: number;
  imageBytes: number;
  /** The engine limits set for the run (absent: the gateway's defaults, 64 and 32). */
  limits: Record<string, string>;
  succeeded: number;
  failed: number;
  totalSeconds: number;
  upstreamSpanSeconds: number;
  mostCallsOpenAtOnce: number;
  /** generateContent calls the mock received (one per task: nothing is sent twice). */
  upstreamCalls: number;
  submitP50Ms: number;
  submitP99Ms: number;
  gatewayRssBeforeMiB: number;
  gatewayRssPeakMiB: number;
  eventLoopDelayMs: LoopFigures;
  gatewayCpuSeconds: number;
  storedMiB: number;
}

/** Options of one run. */
export interface SyncRunOptions {
  readonly tasks: number;
  readonly delayMs: number;
  readonly imageBytes: number;
  readonly clientKey: string;
  readonly nodeOptions: string;
  /** ENGINE_CONCURRENCY / POLL_CONCURRENCY_PER_CHANNEL for the gateway (absent: its defaults). */
  readonly limits?: Readonly<Record<string, string>>;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

/** Runs the phase once with fresh processes. */
export async function syncRun(o: SyncRunOptions): Promise<SyncFigures> {
  const mock = await startScript('mock-gemini.js', [String(o.delayMs), String(o.imageBytes)]);
  const dir = mkdtempSync(join(tmpdir(), 'itb-bench-sync-'));
  const probe = loopProbe(dir);
  const configFile = join(dir, 'bridge.json');
  writeFileSync(configFile, JSON.stringify({ channels: [{ id: 'gemini-bench', adapter: 'gemini', base_url: mock.url, api_key_env: 'BENCH_GEMINI_KEY', models: ['NanoBanana'], priority: 1 }] }));
  const env: Record<string, string> = {
    HUB_API_KEY: 'bench-unused-hub-key',
    GATEWAY_API_KEYS: `${o.clientKey}:bench`,
    CONFIG_FILE: configFile,
    BENCH_GEMINI_KEY: 'bench-gemini-key-0001',
    BLOB_DIR: join(dir, 'blobs'),
    ...probe.env,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000000',
    MAX_OPEN_TASKS_PER_OWNER: '100000000',
    ...o.limits,
  };
  const gateway = await startGateway(mock.url, env, `${o.nodeOptions} ${probe.nodeOptions}`.trim());
  const children: Child[] = [mock, gateway];
  const hardStop = setTimeout(() => {
    for (const c of children) c.child.kill('SIGKILL');
    process.exit(3);
  }, 10 * 60_000);
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${o.clientKey}` };
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = rssMiB(gateway.child.pid);
    // The probe's window is the whole run: from the first submit until every task was seen terminal.
    const { result: run, loop: eventLoop } = await probe.window(gateway, () => submitAndWait(gateway, agent, headers, o));
    agent.destroy();
    const stats = (await getJson(mock.url, '/stats')) as { calls: number; maxOpen: number; spanMs: number };
    const sorted = [...run.submitMs].sort((a, b) => a - b);
    return {
      tasks: o.tasks,
      upstreamDelayMs: o.delayMs,
      imageBytes: o.imageBytes,
      limits: { ...o.limits },
      succeeded: run.succeeded,
      failed: run.failed,
      totalSeconds: run.totalSeconds,
      upstreamSpanSeconds: Math.round(stats.spanMs / 100) / 10,
      mostCallsOpenAtOnce: stats.maxOpen,
      upstreamCalls: stats.calls,
      submitP50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      submitP99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      gatewayRssBeforeMiB: rssBefore,
      gatewayRssPeakMiB: run.rssPeakMiB,
      eventLoopDelayMs: eventLoop,
      gatewayCpuSeconds: Math.round(run.cpuMs / 100) / 10,
      storedMiB: Math.round(dirBytes(join(dir, 'blobs')) / 1024 / 1024),
    };
  } finally {
    clearTimeout(hardStop);
    await stopChildren(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the measured window of a run saw. */
interface SyncWindow {
  submitMs: number[];
  succeeded: number;
  failed: number;
  totalSeconds: number;
  cpuMs: number;
  rssPeakMiB: number;
}

/** Submits every task at once, then queries the open ones once a second until all are terminal (or 5 minutes). */
async function submitAndWait(gateway: Child, agent: http.Agent, headers: Record<string, string>, o: SyncRunOptions): Promise<SyncWindow> {
  const base = new URL(gateway.url);
  const rss = new RssPeaks({ gateway: gateway.child });
  const cpuBefore = cpuMs(gateway.child.pid);
  const started = performance.now();
  const submitMs: number[] = [];
  const ids = await Promise.all(
    Array.from({ length: o.tasks }, async (_, i) => {
      const t0 = performance.now();
      const body = JSON.stringify({ model: 'NanoBanana', prompt: `A small blue glass sphere on a white desk, variant ${i}`, aspect_ratio: '1:1' });
      const res = await send(agent, base, { method: 'POST', path: '/v1/images/tasks', headers, body });
      submitMs.push(performance.now() - t0);
      if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${res.body.slice(0, 200)}`);
      return (JSON.parse(res.body) as { task_id: string }).task_id;
    }),
  );
  const open = new Set(ids);
  let succeeded = 0;
  let failed = 0;
  const deadline = started + 5 * 60_000;
  while (open.size > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(
      [...open].map(async (id) => {
        const res = await send(agent, base, { method: 'GET', path: `/v1/images/tasks/${id}`, headers });
        const status = (JSON.parse(res.body) as { data: { status: string } }).data.status;
        if (status === 'succeeded' || status === 'failed') {
          open.delete(id);
          if (status === 'succeeded') succeeded++;
          else failed++;
        }
      }),
    );
  }
  const totalSeconds = Math.round((performance.now() - started) / 100) / 10;
  const cpu = cpuMs(gateway.child.pid) - cpuBefore;
  return { submitMs, succeeded, failed, totalSeconds, cpuMs: cpu, rssPeakMiB: rss.stop().gateway ?? 0 };
}

/** The table row of a run. */
export function syncRow(f: SyncFigures): string {
  const e = f.eventLoopDelayMs;
  return [
    'sync upstream',
    `${f.tasks} tasks at once, ${f.upstreamDelayMs / 1000} s calls, ${(f.imageBytes / 1024 / 1024).toFixed(0)} MiB images, ${Object.entries(f.limits).map(([k, v]) => `${k}=${v}`).join(' ') || 'default engine limits'}`,
    `${f.succeeded} succeeded, ${f.failed} failed, all terminal in ${f.totalSeconds} s (upstream span ${f.upstreamSpanSeconds} s, ${f.upstreamCalls} calls, at most ${f.mostCallsOpenAtOnce} open)`,
    `RSS ${f.gatewayRssBeforeMiB} -> peak ${f.gatewayRssPeakMiB} MiB`,
    `event-loop delay p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms, max ${e.maxMs} ms; GC ${gcText(e)}`,
    `submit p50/p99 ${f.submitP50Ms}/${f.submitP99Ms} ms`,
    `CPU ${f.gatewayCpuSeconds} s, ${f.storedMiB} MiB stored`,
  ].join(' | ');
}

/** The options `npm run bench` and the standalone run use (env as in the file comment). */
export function syncOptionsFromEnv(clientKey: string, quick: boolean): SyncRunOptions {
  const limits: Record<string, string> = {};
  if (process.env.BENCH_SYNC_ENGINE_CONCURRENCY) limits.ENGINE_CONCURRENCY = process.env.BENCH_SYNC_ENGINE_CONCURRENCY;
  if (process.env.BENCH_SYNC_POLL_CONCURRENCY) limits.POLL_CONCURRENCY_PER_CHANNEL = process.env.BENCH_SYNC_POLL_CONCURRENCY;
  return {
    tasks: Number(process.env.BENCH_SYNC_TASKS ?? (quick ? 50 : 200)),
    delayMs: Number(process.env.BENCH_SYNC_DELAY_MS ?? 2000),
    imageBytes: Number(process.env.BENCH_SYNC_IMAGE_BYTES ?? 2 * 1024 * 1024),
    clientKey,
    nodeOptions: process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '',
    limits,
  };
}

if (require.main === module) {
  syncRun(syncOptionsFromEnv(BENCH_CLIENT_KEY, process.env.BENCH_QUICK === '1'))
    .then((f) => process.stdout.write(`${syncRow(f)}\n${JSON.stringify(f, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`sync bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
