/**
 * Reads V8 CPU profiles (`node --cpu-prof`, e.g. the gateway's under BENCH_PROFILE=1, bench/processes.ts) and
 * prints where the time went:
 * - the top functions by **self** time (samples whose top frame is the function), as a share of all samples
 *   that are not idle;
 * - the top frames by **inclusive** time under the request handler: of the samples whose stack holds a frame
 *   named like `--under` (default: fastify's `runPreParsing|preHandlerCallback|handleRequest`, the route
 *   handler's callers), the share whose stack also holds each function (counted once per sample, so recursion
 *   does not inflate it).
 *
 * Usage: `node dist/bench/profile-summary.js <file.cpuprofile | dir> [--top=25] [--under=regex] [--callers=regex
 * [--depth=12]]`. A directory means its newest .cpuprofile file. `--callers` also prints the most common stacks of
 * the samples whose top frame matches (who calls `writev`, say).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of the summary. */
export interface FrameShare {
  frame: string;
  ms: number;
  share: number;
}

/** The summary of one profile. */
export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  selfTop: FrameShare[];
  underMs: number;
  underTop: FrameShare[];
  /** With `callers`: the most common stacks (top frame first, `depth` frames) of the samples whose top frame matches. */
  callerStacks: FrameShare[];
}


function frameName(f: CallFrame): string {
  const file = f.url === '' ? '' : ` ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'}${file}`;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) return path.slice(dist + '/dist/'.length);
  return path.startsWith('node:') ? path : basename(path);
}

/** Summarizes a profile: self time per function and inclusive time per frame under `under`. */
export function summarizeProfile(profile: CpuProfile, top: number, under: RegExp, callers?: RegExp, depth = 12): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const underTime = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let underTotal = 0;
  const callerTime = new Map<string, number>();
  let callerTotal = 0;
  // (program) and GC stay in the self table (GC is real work of the request path); only (idle) is left out.
  const stackCache = new Map<number, string[]>();
  const stackOf = (id: number): string[] => {
    let s = stackCache.get(id);
    if (s === undefined) {
      s = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) s.push(frameName((byId.get(at) as ProfileNode).callFrame));
      stackCache.set(id, s);
    }
    return s;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i] as number);
    if (node === undefined) continue;
    total += ms;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + ms);
    const stack = stackOf(node.id);
    if (callers?.test(name)) {
      const key = stack.slice(0, depth).join('\n      <- ');
      callerTime.set(key, (callerTime.get(key) ?? 0) + ms);
      callerTotal += ms;
    }
    if (stack.some((f) => under.test(f))) {
      underTotal += ms;
      for (const f of new Set(stack)) underTime.set(f, (underTime.get(f) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>, of: number): FrameShare[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, ms]) => ({ frame, ms: Math.round(ms), share: of > 0 ? Math.round((ms / of) * 1000) / 10 : 0 }));
  return { totalMs: Math.round(total), idleMs: Math.round(idle), selfTop: rows(self, busy), underMs: Math.round(underTotal), underTop: rows(underTime, underTotal), callerStacks: rows(callerTime, callerTotal) };
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files[0] === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

function main(argv: string[]): void {
  const target = argv.find((a) => !a.startsWith('--'));
  if (target === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile | dir> [--top=25] [--under=regex]\n');
    process.exit(2);
  }
  const top = Number(argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  const under = new RegExp(argv.find((a) => a.startsWith('--under='))?.slice(8) ?? '^(runPreParsing|preHandlerCallback|handleRequest|onRequestHookRunner) ');
  const file = statSync(target).isDirectory() ? newestProfile(target) : target;
  const callersArg = argv.find((a) => a.startsWith('--callers='))?.slice(10);
  const depth = Number(argv.find((a) => a.startsWith('--depth='))?.slice(8) ?? 12);
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top, under, callersArg === undefined ? undefined : new RegExp(callersArg), depth);
  const out: string[] = [`${file}: ${s.totalMs} ms sampled, ${s.idleMs} ms idle, ${s.totalMs - s.idleMs} ms busy`, '', 'self time (share of busy):'];
  for (const r of s.selfTop) out.push(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.frame}`);
  out.push('', `inclusive under ${under.source}: ${s.underMs} ms (${s.totalMs - s.idleMs > 0 ? Math.round((s.underMs / (s.totalMs - s.idleMs)) * 1000) / 10 : 0}% of busy)`);
  for (const r of s.underTop) out.push(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.frame}`);
  if (callersArg !== undefined) {
    out.push('', `stacks of the samples whose top frame matches ${callersArg} (share of those samples):`);
    for (const r of s.callerStacks) out.push(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.frame}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (require.main === module) main(process.argv.slice(2));
