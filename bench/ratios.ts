/**
 * The gateway's figures as ratios to the floor proxy's (same run), with the ranges over the repetitions and
 * the targets of docs/benchmarks.md: CPU per submit and per upstream-reaching poll <= 1.3x, added p50 at
 * concurrency 1 <= 1.5x, highest rate with p99 < 10 ms >= 0.7x, peak RSS <= 1.5x the floor's plus the stored
 * tasks' bytes.
 */
import { rateStepsText, type CompareFigures, type ShapeFigures } from './compare';

/** One figure over the repetitions. */
export interface RangeFigure {
  name: string;
  values: number[];
  min: number;
  max: number;
  target?: string;
  met?: boolean;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;
/** a / b; NaN (printed n/a) when the floor's figure is not positive (a ratio to noise means nothing). */
const ratio = (a: number, b: number): number => (b > 0 ? r2(a / b) : Number.NaN);

function range(name: string, values: number[], target?: { text: string; ok: (v: number) => boolean }): RangeFigure {
  const known = values.filter((v) => !Number.isNaN(v));
  const min = Math.min(...known);
  const max = Math.max(...known);
  return { name, values, min, max, ...(target ? { target: target.text, met: known.length === values.length && values.every(target.ok) } : {}) };
}

const atMost = (limit: number) => ({ text: `<= ${limit}x`, ok: (v: number) => v <= limit });
const atLeast = (limit: number) => ({ text: `>= ${limit}x`, ok: (v: number) => v >= limit });

function shapeRows(kind: 'submit' | 'poll', runs: CompareFigures[]): RangeFigure[] {
  const out: RangeFigure[] = [];
  const names = Object.keys(runs[0]?.[kind] ?? {});
  for (const shape of names) {
    const get = (r: CompareFigures): ShapeFigures => r[kind][shape] as ShapeFigures;
    out.push(range(`${kind} ${shape}: CPU per request, gateway / floor`, runs.map((r) => ratio(get(r).gatewayCpuMsPerRequest, get(r).floorCpuMsPerRequest)), shape === 'open loop 1000/s' ? atMost(1.3) : undefined));
    out.push(range(`${kind} ${shape}: added p50, gateway / floor`, runs.map((r) => ratio(get(r).gatewayAdded.p50, get(r).floorAdded.p50)), shape === 'concurrency 1' ? atMost(1.5) : undefined));
    out.push(range(`${kind} ${shape}: added p99, gateway / floor`, runs.map((r) => ratio(get(r).gatewayAdded.p99, get(r).floorAdded.p99))));
  }
  return out;
}

/** Ratios and ranges, and the printed rows. */
export function summarizeRuns(runs: CompareFigures[], heapBytesPerTask: number): { figures: RangeFigure[]; rows: string[] } {
  const figures: RangeFigure[] = [
    ...shapeRows('submit', runs),
    ...shapeRows('poll', runs),
    range('highest submit rate with p99 < 10 ms, gateway / floor', runs.map((r) => ratio(r.throughput.gatewaySubmit, r.throughput.floorSubmit)), atLeast(0.7)),
    range('highest poll rate with p99 < 10 ms, gateway / floor', runs.map((r) => ratio(r.throughput.gatewayPoll, r.throughput.floorPoll)), atLeast(0.7)),
    range(
      'peak RSS, gateway / (1.5 x floor + stored tasks x bytes per task)',
      runs.map((r) => ratio(r.rssPeakMiB.gateway ?? 0, 1.5 * (r.rssPeakMiB.floor ?? 0) + (r.gatewayTasksStored * heapBytesPerTask) / 1048576)),
      atMost(1),
    ),
  ];
  const rows = ['ratios to the floor (bare node:http keep-alive proxy), per repetition [min-max]:'];
  for (const f of figures) rows.push(`${f.name} | ${f.values.map((v) => (Number.isNaN(v) ? 'n/a' : v)).join(' / ')} [${f.min}-${f.max}]${f.target ? ` | target ${f.target}: ${f.met ? 'met' : 'MISSED'}` : ''}`);
  rows.push('', 'absolute figures, per repetition (context):');
  runs.forEach((r, i) => {
    const s = r.submit['concurrency 1'];
    const p = r.poll['concurrency 1'];
    const s1k = r.submit['open loop 1000/s'];
    const p1k = r.poll['open loop 1000/s'];
    rows.push(
      `run ${i + 1} | submit c=1 added p50/p99 floor ${s?.floorAdded.p50}/${s?.floorAdded.p99} gateway ${s?.gatewayAdded.p50}/${s?.gatewayAdded.p99} ms` +
        ` | poll c=1 added p50/p99 floor ${p?.floorAdded.p50}/${p?.floorAdded.p99} gateway ${p?.gatewayAdded.p50}/${p?.gatewayAdded.p99} ms` +
        ` | CPU/req at 1000/s submit floor ${s1k?.floorCpuMsPerRequest} gateway ${s1k?.gatewayCpuMsPerRequest}, poll floor ${p1k?.floorCpuMsPerRequest} gateway ${p1k?.gatewayCpuMsPerRequest} ms` +
        ` | best rate submit floor ${r.throughput.floorSubmit} gateway ${r.throughput.gatewaySubmit}/s (${rateStepsText(r.gatewayRateSteps.submit)}), poll floor ${r.throughput.floorPoll} gateway ${r.throughput.gatewayPoll}/s (${rateStepsText(r.gatewayRateSteps.poll)})` +
        ` | store-answered query CPU ${r.storeQuery.cpuMsPerRequest} ms, c=1 p50/p99 ${r.storeQuery.c1.p50}/${r.storeQuery.c1.p99} ms, best ${r.storeQuery.bestRateUnder10msP99}/s` +
        ` | peak RSS floor ${r.rssPeakMiB.floor} gateway ${r.rssPeakMiB.gateway} MiB with <= ${r.gatewayTasksStored} tasks stored` +
        (r.pollFanIn ? ` | fan-in ${r.pollFanIn.clientPolls} client polls -> ${r.pollFanIn.upstreamPolls} upstream polls of ${r.pollFanIn.tasksPolled} tasks, max ${r.pollFanIn.maxUpstreamPollsPerTaskInAnyInterval} per task per interval (${r.pollFanIn.tasksOverOnePerInterval} tasks over 1), errors ${r.pollFanIn.errors}` : ''),
    );
  });
  return { figures, rows };
}
