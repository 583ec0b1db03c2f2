/**
 * The hot-path phase alone (docs/benchmarks.md "Profile and changes"): the gateway's and the floor's CPU per
 * request for submits and for upstream-reaching polls in an open loop at BENCH_HOT_RATE (default 1,000/s) for
 * BENCH_HOT_SECONDS (default 5) each, BENCH_HOT_REPEAT times (default 3) on the same processes, after the same
 * 5,000-request warm-up as `npm run bench`, plus the added p50 at concurrency 1. CPU time per request is read
 * from /proc, so it is a fair figure on a shared machine where latencies are not. The gateway's phases also report
 * the bytes its scavenges promoted per request and its longest GC pause (bench/loop-probe.ts): promoted bytes are
 * what fills the old space and brings the mark-compacts (docs/benchmarks.md "Promoted bytes").
 *
 * `npm run build && node dist/bench/hot-path.js`; with BENCH_PROFILE=1 the gateway runs under `--cpu-prof`
 * (bench/processes.ts) and the profile's summary is printed at the end (bench/profile-summary.ts);
 * BENCH_GATEWAY_ROOT measures another checkout's build (an old commit) under the same load generator.
 */
import { closedLoop, openLoop, type LoadRequest } from './load';
import { gcText, loopProbe, type LoopFigures } from './loop-probe';
import { benchProfileDir, cpuMs, startGateway, startScript, stopChildren, type Child } from './processes';
import { summarizeProfile } from './profile-summary';
import { BENCH_CLIENT_KEY, BENCH_HUB_KEY, comparisonGatewayEnv, floorRequests } from './floor-requests';

const RATE = Number(process.env.BENCH_HOT_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_HOT_SECONDS ?? 5);
const REPEAT = Number(process.env.BENCH_HOT_REPEAT ?? 3);
const WARM_UP = 5000;

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const mock = await startScript('mock-hub.js');
  const floor = await startScript('floor-proxy.js', [mock.url]);
  const probe = loopProbe();
  const gateway = await startGateway(
    mock.url,
    { ...probe.env, ...comparisonGatewayEnv() },
    `${process.env.BENCH_GATEWAY_NODE_OPTIONS ?? ''} ${probe.nodeOptions}`.trim(),
  );
  const children: Child[] = [mock, floor, gateway];
  const out: string[] = [];
  try {
    const { auth, directSubmit, gwSubmit, hubPoll, createTasks } = floorRequests(BENCH_CLIENT_KEY, BENCH_HUB_KEY, gateway.url);
    await closedLoop(mock.url, () => directSubmit, WARM_UP, 2);
    await closedLoop(floor.url, () => directSubmit, WARM_UP, 2);
    await closedLoop(floor.url, hubPoll, WARM_UP, 2);
    await closedLoop(gateway.url, () => gwSubmit, WARM_UP, 2);
    const warmTasks = await createTasks(WARM_UP / 5);
    await closedLoop(gateway.url, (i) => ({ method: 'GET', path: `/v1/images/tasks/${warmTasks[i % warmTasks.length] as string}`, headers: auth }), WARM_UP, 2);
    const pollTasks = await createTasks(RATE * SECONDS * REPEAT + 1000);
    let cursor = 0;
    const duePoll = (): LoadRequest => ({ method: 'GET', path: `/v1/images/tasks/${pollTasks[cursor++ % pollTasks.length] as string}`, headers: auth });

    const cpuOf = async (child: Child, url: string, make: (i: number) => LoadRequest): Promise<{ cpu: number; p50: number; p99: number; errors: number; count: number; loop?: LoopFigures }> => {
      await pause(500);
      const before = cpuMs(child.child.pid);
      const run = () => openLoop(url, make, RATE, SECONDS * 1000);
      const { result: s, loop } = child === gateway ? await probe.window(gateway, run) : { result: await run(), loop: undefined };
      return { cpu: r3((cpuMs(child.child.pid) - before) / s.count), p50: s.p50, p99: s.p99, errors: s.errors, count: s.count, ...(loop ? { loop } : {}) };
    };
    const gcOf = (f: { loop?: LoopFigures; count: number }): string => (f.loop ? `promoted ${Math.round(f.loop.promotedBytes / f.count)} B/req, ${gcText(f.loop)}` : '');
    const c1 = async (url: string, make: (i: number) => LoadRequest): Promise<number> => (await closedLoop(url, make, 1000, 1)).p50;

    for (let i = 0; i < REPEAT; i++) {
      const fs = await cpuOf(floor, floor.url, () => directSubmit);
      const gs = await cpuOf(gateway, gateway.url, () => gwSubmit);
      const fp = await cpuOf(floor, floor.url, hubPoll);
      const gp = await cpuOf(gateway, gateway.url, duePoll);
      const d1 = await c1(mock.url, () => directSubmit);
      const f1 = await c1(floor.url, () => directSubmit);
      const g1 = await c1(gateway.url, () => gwSubmit);
      const line =
        `rep ${i + 1} | CPU/req at ${RATE}/s: submit floor ${fs.cpu} gateway ${gs.cpu} ms (${r3(gs.cpu / fs.cpu)}x), poll floor ${fp.cpu} gateway ${gp.cpu} ms (${r3(gp.cpu / fp.cpu)}x)` +
        ` | p99 submit floor ${fs.p99} gateway ${gs.p99}, poll floor ${fp.p99} gateway ${gp.p99} ms | errors ${gs.errors + gp.errors}` +
        ` | submit c=1 added p50 floor ${r3(f1 - d1)} gateway ${r3(g1 - d1)} ms` +
        ` | gateway GC: submit ${gcOf(gs)}; poll ${gcOf(gp)}`;
      out.push(line);
      process.stderr.write(`${line}\n`);
    }
  } finally {
    await stopChildren(children);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  const dir = benchProfileDir();
  if (dir !== undefined) {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const newest = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (newest !== undefined) {
      const s = summarizeProfile(JSON.parse(readFileSync(newest, 'utf8')), 25, /^(runPreParsing|preHandlerCallback|handleRequest|onRequestHookRunner) /);
      process.stdout.write(`\nprofile ${newest}: ${s.totalMs - s.idleMs} ms busy; top self:\n`);
      for (const r of s.selfTop) process.stdout.write(`${String(r.share).padStart(5)}%  ${r.frame}\n`);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`hot-path bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
