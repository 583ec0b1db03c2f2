/**
 * A counting hub for engine tests: a real node:http server on 127.0.0.1 speaking the hub protocol
 * (adapters/hub/hub-api.ts). Each task answers `running` until it has been polled `pollsToFinish` times, then
 * `succeeded` with one image (or never finishes when `pollsToFinish` is Infinity). Every poll is recorded with
 * its arrival time, so a test can check how often each task was polled.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running counting hub. */
export interface CountingHub {
  /** `http://127.0.0.1:<port>`, for HUB_BASE_URL. */
  readonly baseUrl: string;
  /** The key it expects (HUB_API_KEY). */
  readonly apiKey: string;
  /** Submits accepted, by upstream id in order. */
  readonly submitted: string[];
  /** Poll arrival times (ms since epoch) per upstream task id. */
  readonly polls: Map<string, number[]>;
  /** Upstream ids whose success has been answered. */
  readonly finished: Set<string>;
  /** Answers 503 to every poll while true (an upstream outage). */
  down: boolean;
  close(): Promise<void>;
}

export async function startCountingHub(options: { pollsToFinish: number; apiKey?: string }): Promise<CountingHub> {
  const apiKey = options.apiKey ?? 'sk-counting-hub-key';
  const submitted: string[] = [];
  const polls = new Map<string, number[]>();
  const finished = new Set<string>();
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(401, { error: { code: 'unauthorized', message: 'bad key' } });
    if (req.method === 'POST' && req.url === '/hub/v1/tasks') {
      req.resume();
      req.on('end', () => {
        seq += 1;
        const id = `hub_cnt_${String(seq).padStart(6, '0')}`;
        submitted.push(id);
        polls.set(id, []);
        send(202, { task_id: id, status: 'queued', ready: false });
      });
      return;
    }
    const match = /^\/hub\/v1\/tasks\/([A-Za-z0-9_]+)$/.exec(req.url ?? '');
    const id = match?.[1];
    const times = id === undefined ? undefined : polls.get(id);
    if (req.method !== 'GET' || id === undefined || !times) return send(404, { error: { code: 'not_found', message: 'no such task' } });
    times.push(Date.now());
    if (hub.down) return send(503, { error: { code: 'unavailable', message: 'down for maintenance' } });
    if (times.length >= options.pollsToFinish) {
      finished.add(id);
      return send(200, {
        task_id: id,
        model: 'nano-banana-2',
        status: 'succeeded',
        ready: true,
        progress: 100,
        output: { images: [{ url: `https://cdn.hub.example/outputs/${id}-0.png`, content_type: 'image/png', width: 1024, height: 1024 }] },
      });
    }
    return send(200, { task_id: id, model: 'nano-banana-2', status: 'running', ready: false, progress: 50 });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const hub: CountingHub = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    submitted,
    polls,
    finished,
    down: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return hub;
}
