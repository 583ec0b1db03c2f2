/**
 * The benchmark's upstream: a bare node:http server answering the hub protocol instantly.
 * Run as a child process: prints `{"port":N}` on stdout, exits when its stdin closes or after 15 minutes.
 * Tasks stay "running" so every gateway poll that reaches it is counted in GET /stats.
 */
import http from 'node:http';
import { serveAsBenchChild } from './child-server';

let submits = 0;
let polls = 0;
let seq = 0;
/** Poll times (ms, monotonic) per upstream task since the last reset, for the fan-in and engine checks (polls per task per interval). */
let perTask = new Map<string, number[]>();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '/';
    let status = 200;
    let body: unknown;
    if (req.method === 'POST' && url === '/hub/v1/tasks') {
      submits++;
      seq++;
      status = 202;
      body = { task_id: `up_${seq}`, status: 'queued', ready: false };
    } else if (req.method === 'GET' && url.startsWith('/hub/v1/tasks/')) {
      polls++;
      const now = performance.now();
      const id = url.slice('/hub/v1/tasks/'.length);
      const times = perTask.get(id);
      if (times) times.push(now);
      else if (perTask.size < 200_000) perTask.set(id, [now]);
      body = { task_id: id, model: 'gpt-image-2', status: 'running', ready: false, progress: 50 };
    } else if (req.method === 'GET' && url === '/stats') {
      body = { submits, polls, acceptedSinceStart: seq };
    } else if (req.method === 'GET' && url.startsWith('/stats/per-task?interval=')) {
      body = perTaskStats(Number(url.slice('/stats/per-task?interval='.length)));
    } else if (req.method === 'POST' && url === '/stats/reset') {
      submits = 0;
      polls = 0;
      perTask = new Map();
      body = { ok: true };
    } else {
      status = 404;
      body = { error: 'not found' };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
/** Tasks polled, polls, and the most polls any one task had within one interval (a sliding window). */
function perTaskStats(intervalMs: number): { tasksPolled: number; polls: number; maxPollsPerTaskInAnyInterval: number; tasksOverOne: number } {
  let max = 0;
  let over = 0;
  let total = 0;
  for (const times of perTask.values()) {
    total += times.length;
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= intervalMs) j++;
      most = Math.max(most, i - j + 1);
    }
    if (most > 1) over++;
    max = Math.max(max, most);
  }
  return { tasksPolled: perTask.size, polls: total, maxPollsPerTaskInAnyInterval: max, tasksOverOne: over };
}

serveAsBenchChild(server, 15 * 60_000);
