/**
 * Translation core micro-benchmark: normalize + route + build the upstream request for a mix of golden
 * cases, and map an upstream task back to the platform task. Single thread, so the figure is per core.
 */
import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubAdapter } from '../adapters/hub/hub-adapter';
import { planSubmit } from '../src/routing/plan';
import { AdapterRegistry } from '../src/routing/registry';
import { applyUpstreamState, toPlatformTask, type TaskRecord } from '../src/tasks/task-record';

/** Result of one micro-benchmark. */
export interface MicroResult {
  name: string;
  ops: number;
  opsPerSecond: number;
  nsPerOp: number;
}

function measure(name: string, durationMs: number, fn: (i: number) => void): MicroResult {
  // Warm up so V8 optimizes before the timed run.
  for (let i = 0; i < 20_000; i++) fn(i);
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) fn(ops + i);
    ops += 1000;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start);
  return { name, ops, opsPerSecond: Math.round((ops * 1e9) / ns), nsPerOp: Math.round(ns / ops) };
}

function loadRequests(fixturesDir: string): unknown[] {
  const dir = join(fixturesDir, 'platform');
  const bodies = readdirSync(dir)
    .filter((f) => f.endsWith('.request.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown);
  if (bodies.length === 0) throw new Error(`no golden requests in ${dir}`);
  return bodies;
}

function freshRecord(): TaskRecord {
  return {
    id: 'task_bench', owner: 'bench', channelId: 'hub', adapterId: 'hub', upstreamRef: { id: 'up_1' }, model: 'gpt-image-2',
    family: 'gpt-image-2', taskType: 'text2image', billing: { requestedImages: 1 }, status: 'queued', progress: 0,
    resultUrls: [], error: null, warnings: [], metadata: {}, createdAt: 0, updatedAt: 0, lastPolledAt: 0, usageSettled: false,
  };
}

/** Runs the translation micro-benchmarks. */
export function runTranslationBench(fixturesDir: string, durationMs = 2000): MicroResult[] {
  const registry = new AdapterRegistry([new HubAdapter()]);
  const adapter = registry.get('hub');
  const requests = loadRequests(fixturesDir).filter((body) => {
    try {
      planSubmit({ body }, registry);
      return true;
    } catch {
      return false; // rejection cases are not part of the submit mix
    }
  });
  const succeeded = JSON.parse(readFileSync(join(fixturesDir, 'hub', 'poll.succeeded.json'), 'utf8')) as unknown;
  return [
    measure(`normalize+route+buildSubmit (${requests.length} golden cases)`, durationMs, (i) => {
      planSubmit({ body: requests[i % requests.length] }, registry);
    }),
    measure('parsePoll+applyUpstreamState+toPlatformTask (succeeded)', durationMs, () => {
      const outcome = adapter.parsePoll({ status: 200, body: succeeded }, { id: 'up_1' });
      const record = freshRecord();
      if (outcome.kind === 'state') applyUpstreamState(record, outcome.state, 1);
      toPlatformTask(record);
    }),
  ];
}
