/**
 * The cost ladder (docs/benchmarks.md "Cost ladder (session 6)"): where the gateway's CPU per request above the floor
 * goes, layer by layer, measured in one run on the same mock hub and load generator. Four rungs, each its own process
 * forwarding the same gpt-image-2 submit (and a poll of a mock task) to the same mock hub:
 * 1. floor: bench/floor-proxy.ts, a bare node:http keep-alive proxy;
 * 2. fastify-proxy: bench/fastify-proxy.ts, the same forwarding inside a default fastify app (the framework);
 * 3. fastify-json: bench/fastify-json.ts, 2 plus parsing the platform request, building the hub body and re-serializing
 *    the answer (the JSON a translating gateway cannot avoid);
 * 4. gateway: the real server, as bench/hot-path.ts starts it; its polls reach the upstream (each task polled once).
 * For each rung and request kind: CPU per request from /proc in an open loop at BENCH_LADDER_RATE (default 1,000/s) for
 * BENCH_LADDER_SECONDS (default 5), BENCH_LADDER_REPEAT (default 3) repetitions interleaved across the rungs
 * (A B C D A B C D ...) after a 5,000-request warm-up per rung, and the added p50 at concurrency 1 (2,000 requests)
 * over the mock's own p50. Prints a markdown table per kind and how the gateway's gap to the floor splits.
 *
 * `npm run build && node dist/bench/ladder.js`
 */
import { loadavg } from 'node:os';
import { closedLoop, openLoop, type LoadRequest } from './load';
import { cpuMs, startGateway, startScript, stopChildren, type Child } from './processes';
import { BENCH_CLIENT_KEY, BENCH_HUB_KEY, comparisonGatewayEnv, floorRequests } from './floor-requests';

const RATE = Number(process.env.BENCH_LADDER_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_LADDER_SECONDS ?? 5);
const REPEAT = Number(process.env.BENCH_LADDER_REPEAT ?? 3);
const WARM_UP = 5000;
const C1 = 2000;
const KINDS = ['submit', 'poll'] as const;
type Kind = (typeof KINDS)[number];

interface Rung {
  readonly name: string;
  readonly child: Child;
  readonly make: Record<Kind, (i: number) => LoadRequest>;
}
/** Per rung and kind: CPU ms per request and added p50 ms, one entry per repetition. */
type Figures = Record<Kind, { cpu: number[]; p50: number[] }>;

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const range = (xs: number[]): string => (Math.min(...xs) === Math.max(...xs) ? `${r3(xs[0] as number)}` : `${r3(Math.min(...xs))}-${r3(Math.max(...xs))}`);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');

async function main(): Promise<void> {
  const loadBefore = load();
  const mock = await startScript('mock-hub.js');
  const children: Child[] = [mock];
  try {
    children.push(await startScript('floor-proxy.js', [mock.url]), await startScript('fastify-proxy.js', [mock.url]), await startScript('fastify-json.js', [mock.url, BENCH_HUB_KEY]));
    const gateway = await startGateway(
      mock.url,
      comparisonGatewayEnv(),
      process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '',
    );
    children.push(gateway);
    const [, floor, fastifyProxy, fastifyJson] = children as [Child, Child, Child, Child];
    const { auth, directSubmit, gwSubmit, hubPoll, createTasks } = floorRequests(BENCH_CLIENT_KEY, BENCH_HUB_KEY, gateway.url);
    const warmTasks = await createTasks(WARM_UP / 5);
    const dueTasks = await createTasks((RATE * SECONDS + C1) * REPEAT + 1000);
    let cursor = 0;
    const gatewayPoll = (id: string): LoadRequest => ({ method: 'GET', path: `/v1/images/tasks/${id}`, headers: auth });
    const direct = { submit: () => directSubmit, poll: hubPoll };
    const rungs: Rung[] = [
      { name: 'floor', child: floor, make: direct },
      { name: 'fastify-proxy', child: fastifyProxy, make: direct },
      { name: 'fastify-json', child: fastifyJson, make: { submit: () => gwSubmit, poll: (i) => gatewayPoll(`up_${(i % 1000) + 1}`) } },
      { name: 'gateway', child: gateway, make: { submit: () => gwSubmit, poll: () => gatewayPoll(dueTasks[cursor++ % dueTasks.length] as string) } },
    ];

    await closedLoop(mock.url, direct.submit, WARM_UP, 2);
    await closedLoop(mock.url, direct.poll, WARM_UP, 2);
    for (const rung of rungs) {
      await closedLoop(rung.child.url, rung.make.submit, WARM_UP, 2);
      const warmPoll = rung.name === 'gateway' ? (i: number) => gatewayPoll(warmTasks[i % warmTasks.length] as string) : rung.make.poll;
      await closedLoop(rung.child.url, warmPoll, WARM_UP, 2);
    }

    const figures = new Map<string, Figures>(rungs.map((r) => [r.name, { submit: { cpu: [], p50: [] }, poll: { cpu: [], p50: [] } }]));
    let errors = 0;
    for (let rep = 0; rep < REPEAT; rep++) {
      for (const kind of KINDS) {
        for (const rung of rungs) {
          await pause(500);
          const before = cpuMs(rung.child.child.pid);
          const s = await openLoop(rung.child.url, rung.make[kind], RATE, SECONDS * 1000);
          figures.get(rung.name)?.[kind].cpu.push(r3((cpuMs(rung.child.child.pid) - before) / s.count));
          errors += s.errors;
        }
        const directP50 = (await closedLoop(mock.url, direct[kind], C1, 1)).p50;
        for (const rung of rungs) {
          const s = await closedLoop(rung.child.url, rung.make[kind], C1, 1);
          figures.get(rung.name)?.[kind].p50.push(r3(s.p50 - directP50));
          errors += s.errors;
        }
      }
      process.stderr.write(`ladder: repetition ${rep + 1}/${REPEAT} done\n`);
    }
    process.stdout.write(`Cost ladder: ${RATE}/s x ${SECONDS} s, ${REPEAT} repetitions, node ${process.version}; load average ${loadBefore} before, ${load()} after; errors ${errors}\n`);
    for (const kind of KINDS) process.stdout.write(`\n${table(kind, rungs, figures)}`);
  } finally {
    await stopChildren(children);
  }
}

/** The markdown table of one request kind, then the gateway's gap to the floor split by rung (medians). */
function table(kind: Kind, rungs: readonly Rung[], figures: Map<string, Figures>): string {
  const of = (i: number): Figures[Kind] => figures.get(rungs[i]?.name ?? '')?.[kind] ?? { cpu: [], p50: [] };
  const floor = of(0).cpu;
  const lines = [
    `${kind} | CPU ms/request (range) | ratio to the floor (range) | increment over the previous rung (median) | added p50 at c=1, ms (range)`,
    '---|---|---|---|---',
  ];
  rungs.forEach((rung, i) => {
    const { cpu, p50 } = of(i);
    const ratios = cpu.map((c, j) => c / (floor[j] as number));
    const d = r3(median(cpu) - median(of(i - 1).cpu));
    const step = i === 0 ? '-' : `${d >= 0 ? '+' : ''}${d}`;
    lines.push(`${i + 1}. ${rung.name} | ${range(cpu)} | ${i === 0 ? '1' : range(ratios.map((x) => Math.round(x * 100) / 100))} | ${step} | ${range(p50)}`);
  });
  const gap = median(of(rungs.length - 1).cpu) - median(floor);
  const parts = rungs.slice(1).map((rung, i) => {
    const d = median(of(i + 1).cpu) - median(of(i).cpu);
    return `${rung.name} ${r3(d)} ms (${Math.round((d / gap) * 100)}%)`;
  });
  lines.push('', `${kind}: gateway - floor = ${r3(gap)} ms/request (medians) = ${parts.join(' + ')}`);
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  process.stderr.write(`ladder bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
