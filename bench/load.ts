/**
 * A small HTTP load generator for the benchmarks: closed loop (fixed concurrency) and open loop (fixed
 * arrival rate). In open loop, latency is measured from the moment a request was SCHEDULED to be sent,
 * so a slow server cannot hide its queueing (no coordinated omission).
 */
import http from 'node:http';
import { RawPool, type RawRequest } from './raw-client';

/** One request to send (the raw client's request shape). */
export type LoadRequest = RawRequest;

/** Latency summary in milliseconds. */
export interface LatencySummary {
  count: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  achievedRate: number;
}

/** Percentile (nearest rank) of a sorted array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Summarizes latencies (ms). */
export function summarize(latencies: number[], errors: number, elapsedMs: number): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    count: latencies.length,
    errors,
    p50: r(percentile(sorted, 50)),
    p90: r(percentile(sorted, 90)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted[sorted.length - 1] ?? NaN),
    achievedRate: Math.round((latencies.length * 1000) / elapsedMs),
  };
}

/** Sends one request; resolves with the status code, headers and body. */
export function send(agent: http.Agent, baseUrl: URL, req: LoadRequest): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { agent, host: baseUrl.hostname, port: baseUrl.port, method: req.method, path: req.path, headers: { ...req.headers, ...(req.body ? { 'content-length': Buffer.byteLength(req.body) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    if (req.body) r.write(req.body);
    r.end();
  });
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

/** Encodes each distinct request object once (phases reuse one object for identical requests). */
function encoder(pool: RawPool): (req: LoadRequest) => Buffer {
  const cache = new WeakMap<LoadRequest, Buffer>();
  return (req) => {
    let bytes = cache.get(req);
    if (!bytes) {
      bytes = pool.encode(req);
      cache.set(req, bytes);
    }
    return bytes;
  };
}

/** Closed loop: `concurrency` workers each send `count / concurrency` requests back to back. */
export async function closedLoop(baseUrl: string, make: (i: number) => LoadRequest, count: number, concurrency = 1): Promise<LatencySummary> {
  const pool = new RawPool(baseUrl, concurrency);
  const encode = encoder(pool);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        try {
          const res = await pool.sendBytes(encode(make(i)));
          if (!isOk(res.status)) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - start;
  pool.close();
  return summarize(latencies, errors, elapsed);
}

/** Open loop: requests are scheduled at a fixed rate for `durationMs`, whatever the server does. */
export async function openLoop(baseUrl: string, make: (i: number) => LoadRequest, ratePerSecond: number, durationMs: number): Promise<LatencySummary> {
  const pool = new RawPool(baseUrl, 512);
  const encode = encoder(pool);
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const intervalMs = 1000 / ratePerSecond;
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * intervalMs;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Timers fire at ms granularity: a request sent a little early counts from when it was sent, one sent
    // late counts from when it should have been sent (the queueing a closed loop would hide).
    const from = Math.min(scheduled, performance.now());
    inflight.push(
      pool.sendBytes(encode(make(i))).then(
        (res) => {
          if (!isOk(res.status)) errors++;
          latencies.push(performance.now() - from);
        },
        () => {
          errors++;
          latencies.push(performance.now() - from);
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - start;
  pool.close();
  return summarize(latencies, errors, elapsed);
}
