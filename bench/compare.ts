/**
 * One repetition of the gateway-against-floor comparison (docs/benchmarks.md "Method"): the same load goes
 * to the mock hub directly, through the floor proxy (bench/floor-proxy.ts) and through the gateway, phase by
 * phase, and each figure of the gateway is also given as a ratio to the floor's.
 */
import http from 'node:http';
import { closedLoop, openLoop, send, type LatencySummary, type LoadRequest } from './load';
import { gcText, loopProbe, type LoopFigures, type LoopProbe } from './loop-probe';
import { cpuMs, getJson, RssPeaks, startGateway, startScript, stopChildren, type Child } from './processes';
import { floorRequests } from './floor-requests';

/** What one repetition needs to know. */
export interface CompareOptions {
  readonly quick: boolean;
  readonly gatewayEnv: Record<string, string>;
  readonly gatewayNodeOptions: string;
  readonly clientKey: string;
  readonly hubKey: string;
  readonly pollIntervalMs: number;
}

/** Added latency (target − direct) at three percentiles, ms. */
export interface Added {
  p50: number;
  p90: number;
  p99: number;
}

/** One load shape measured on the three paths. */
export interface ShapeFigures {
  direct: LatencySummary;
  floor: LatencySummary;
  gateway: LatencySummary;
  floorAdded: Added;
  gatewayAdded: Added;
  floorCpuMsPerRequest: number;
  gatewayCpuMsPerRequest: number;
}

/** Everything one repetition measured. */
export interface CompareFigures {
  submit: Record<string, ShapeFigures>;
  poll: Record<string, ShapeFigures>;
  /** Queries of tasks whose poll is not due (answered from the store): gateway only. */
  storeQuery: { cpuMsPerRequest: number; c1: LatencySummary; bestRateUnder10msP99: number };
  throughput: Record<'floorSubmit' | 'gatewaySubmit' | 'floorPoll' | 'gatewayPoll', number>;
  /** The gateway's rate searches step by step, with what its event-loop probe saw in each step (GC pauses). */
  gatewayRateSteps: { submit: RateStep[]; poll: RateStep[] };
  rssPeakMiB: Record<string, number>;
  gatewayTasksStored: number;
  pollFanIn?: {
    clients: number;
    seconds: number;
    clientPolls: number;
    errors: number;
    /** Every upstream poll in the window: the fan-in task's and the engine's of the other stored tasks. */
    upstreamPolls: number;
    /** Tasks the mock saw polled in the window. */
    tasksPolled: number;
    /** The most polls any one task had within one interval (the check: <= 1), from the mock's per-task poll times. */
    maxUpstreamPollsPerTaskInAnyInterval: number;
    /** Tasks polled more than once within one interval. */
    tasksOverOnePerInterval: number;
  };
}

/** One step of a rate search. */
export interface RateStep {
  rate: number;
  p99: number;
  errors: number;
  /** The gateway's event-loop delay and GC pauses during the step. */
  loop?: LoopFigures;
}

/** A rate search's steps as one short text: the last step (the one that ended it, unless all passed) and its GC. */
export function rateStepsText(steps: readonly RateStep[]): string {
  const last = steps[steps.length - 1];
  if (!last) return 'no steps';
  return `last step ${last.rate}/s p99 ${last.p99} ms${last.loop ? `, event-loop delay max ${last.loop.maxMs} ms, GC ${gcText(last.loop)}` : ''}`;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function added(target: LatencySummary, direct: LatencySummary): Added {
  return { p50: r3(target.p50 - direct.p50), p90: r3(target.p90 - direct.p90), p99: r3(target.p99 - direct.p99) };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Highest open-loop rate (of `rates`) with p99 < 10 ms and no errors; stops at the first failing step. With a probe
 * (the gateway's), each step also records what the gateway's event loop and GC did during it.
 */
async function rateSearch(url: string, make: (i: number) => LoadRequest, rates: number[], stepMs: number, probed?: { probe: LoopProbe; gateway: Child }): Promise<{ best: number; steps: RateStep[] }> {
  let best = 0;
  const steps: RateStep[] = [];
  for (const rate of rates) {
    const run = () => openLoop(url, make, rate, stepMs);
    const { result: s, loop } = probed ? await probed.probe.window(probed.gateway, run) : { result: await run(), loop: undefined };
    steps.push({ rate, p99: s.p99, errors: s.errors, ...(loop ? { loop } : {}) });
    if (!(s.p99 < 10 && s.errors === 0)) break;
    best = rate;
    await pause(300);
  }
  return { best, steps };
}

/** The highest rate of a rate search. */
async function bestRate(url: string, make: (i: number) => LoadRequest, rates: number[], stepMs: number): Promise<number> {
  return (await rateSearch(url, make, rates, stepMs)).best;
}

/** Runs one repetition with fresh processes; kills them at the end. */
export async function compareOnce(o: CompareOptions, withFanIn: boolean): Promise<CompareFigures> {
  const phaseMs = o.quick ? 1000 : 5000;
  const c1Count = o.quick ? 300 : 2000;
  const warmUp = o.quick ? 500 : 5000;
  const rates = o.quick ? [250, 500] : [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000];
  const stepMs = o.quick ? 1000 : 3000;

  const mock = await startScript('mock-hub.js');
  const floor = await startScript('floor-proxy.js', [mock.url]);
  const probe = loopProbe();
  const gateway = await startGateway(mock.url, { ...o.gatewayEnv, ...probe.env }, `${o.gatewayNodeOptions} ${probe.nodeOptions}`.trim());
  const children: Child[] = [mock, floor, gateway];
  const hardStop = setTimeout(() => {
    for (const c of children) c.child.kill('SIGKILL');
    process.exit(3);
  }, 20 * 60_000);
  const rss = new RssPeaks({ gateway: gateway.child, floor: floor.child });
  try {
    const { auth, directSubmit, gwSubmit, hubPoll, createTasks } = floorRequests(o.clientKey, o.hubKey, gateway.url);

    // Warm-up of every path (JIT, keep-alive sockets); the poll warm-up uses tasks of its own.
    for (const url of [mock.url, floor.url]) {
      await closedLoop(url, () => directSubmit, warmUp, 2);
      await closedLoop(url, hubPoll, warmUp, 2);
    }
    await closedLoop(gateway.url, () => gwSubmit, warmUp, 2);
    const warmTasks = await createTasks(warmUp / 5);
    await closedLoop(gateway.url, (i) => ({ method: 'GET', path: `/v1/images/tasks/${warmTasks[i % warmTasks.length] as string}`, headers: auth }), warmUp, 2);

    const shapes: Array<{ name: string; run: (url: string, make: (i: number) => LoadRequest) => Promise<LatencySummary> }> = [
      { name: 'concurrency 1', run: (u, m) => closedLoop(u, m, c1Count, 1) },
      { name: 'open loop 500/s', run: (u, m) => openLoop(u, m, 500, phaseMs) },
      { name: 'open loop 1000/s', run: (u, m) => openLoop(u, m, 1000, phaseMs) },
      { name: 'open loop 2000/s', run: (u, m) => openLoop(u, m, 2000, phaseMs) },
    ];
    const measure = async (directMake: (i: number) => LoadRequest, gatewayMake: (i: number) => LoadRequest, run: (url: string, make: (i: number) => LoadRequest) => Promise<LatencySummary>): Promise<ShapeFigures> => {
      await pause(1000);
      const direct = await run(mock.url, directMake);
      await pause(300);
      let before = cpuMs(floor.child.pid);
      const fl = await run(floor.url, directMake);
      const floorCpuMsPerRequest = r3((cpuMs(floor.child.pid) - before) / fl.count);
      await pause(300);
      before = cpuMs(gateway.child.pid);
      const gw = await run(gateway.url, gatewayMake);
      const gatewayCpuMsPerRequest = r3((cpuMs(gateway.child.pid) - before) / gw.count);
      return { direct, floor: fl, gateway: gw, floorAdded: added(fl, direct), gatewayAdded: added(gw, direct), floorCpuMsPerRequest, gatewayCpuMsPerRequest };
    };

    const submit: Record<string, ShapeFigures> = {};
    for (const shape of shapes) submit[shape.name] = await measure(() => directSubmit, () => gwSubmit, shape.run);

    // Polls that reach the upstream: every query is of a task not polled within the interval.
    const pollTasks = await createTasks(o.quick ? 4000 : 20_000);
    let cursor = 0;
    const duePoll = (): LoadRequest => ({ method: 'GET', path: `/v1/images/tasks/${pollTasks[cursor++ % pollTasks.length] as string}`, headers: auth });
    const poll: Record<string, ShapeFigures> = {};
    for (const shape of shapes) poll[shape.name] = await measure(hubPoll, duePoll, shape.run);

    // Queries answered from the store: 20 tasks, each polled once, then queried within the interval.
    const hot = await createTasks(20);
    const hotQuery = (i: number): LoadRequest => ({ method: 'GET', path: `/v1/images/tasks/${hot[i % hot.length] as string}`, headers: auth });
    await closedLoop(gateway.url, hotQuery, 40, 1);
    const storeBefore = cpuMs(gateway.child.pid);
    const storeC1 = await closedLoop(gateway.url, hotQuery, c1Count, 1);
    const storeCpu = r3((cpuMs(gateway.child.pid) - storeBefore) / storeC1.count);
    const storeBest = await bestRate(gateway.url, hotQuery, rates, stepMs);

    const floorSubmit = await bestRate(floor.url, () => directSubmit, rates, stepMs);
    const gatewaySubmit = await rateSearch(gateway.url, () => gwSubmit, rates, stepMs, { probe, gateway });
    const floorPoll = await bestRate(floor.url, hubPoll, rates, stepMs);
    const gatewayPoll = await rateSearch(gateway.url, duePoll, rates, stepMs, { probe, gateway });
    const throughput = { floorSubmit, gatewaySubmit: gatewaySubmit.best, floorPoll, gatewayPoll: gatewayPoll.best };
    const gatewayRateSteps = { submit: gatewaySubmit.steps, poll: gatewayPoll.steps };

    let pollFanIn: CompareFigures['pollFanIn'];
    if (withFanIn) pollFanIn = await fanIn(gateway.url, mock.url, (await createTasks(1))[0] as string, auth, o.pollIntervalMs, o.quick ? 2000 : 5000);

    const gatewayTasksStored = ((await getJson(mock.url, '/stats')) as { acceptedSinceStart: number }).acceptedSinceStart;
    return { submit, poll, storeQuery: { cpuMsPerRequest: storeCpu, c1: storeC1, bestRateUnder10msP99: storeBest }, throughput, gatewayRateSteps, rssPeakMiB: rss.stop(), gatewayTasksStored, ...(pollFanIn ? { pollFanIn } : {}) };
  } finally {
    rss.stop();
    clearTimeout(hardStop);
    await stopChildren(children);
  }
}

/** 1,000 concurrent clients poll one task; the mock says how many polls reached it, and when. */
async function fanIn(gatewayUrl: string, mockUrl: string, taskId: string, auth: Readonly<Record<string, string>>, intervalMs: number, durationMs: number): Promise<NonNullable<CompareFigures['pollFanIn']>> {
  const { RawPool } = await import('./raw-client');
  await send(new http.Agent(), new URL(mockUrl), { method: 'POST', path: '/stats/reset' });
  const start = performance.now();
  const pool = new RawPool(gatewayUrl, 1000);
  const request = pool.encode({ method: 'GET', path: `/v1/images/tasks/${taskId}`, headers: auth });
  let clientPolls = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: 1000 }, async () => {
      while (performance.now() - start < durationMs) {
        try {
          if ((await pool.sendBytes(request)).status !== 200) errors++;
        } catch {
          errors++;
        }
        clientPolls++;
      }
    }),
  );
  pool.close();
  // At most one upstream poll per task per interval, counted per task (bench/mock-hub.ts /stats/per-task): the
  // engine polls the other stored tasks during the window too, so a count over all polls says nothing per task.
  const stats = (await getJson(mockUrl, `/stats/per-task?interval=${intervalMs}`)) as { tasksPolled: number; polls: number; maxPollsPerTaskInAnyInterval: number; tasksOverOne: number };
  return {
    clients: 1000,
    seconds: durationMs / 1000,
    clientPolls,
    errors,
    upstreamPolls: stats.polls,
    tasksPolled: stats.tasksPolled,
    maxUpstreamPollsPerTaskInAnyInterval: stats.maxPollsPerTaskInAnyInterval,
    tasksOverOnePerInterval: stats.tasksOverOne,
  };
}
