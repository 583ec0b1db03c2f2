/**
 * A scripted hub for reliability tests: a real node:http server on 127.0.0.1 whose answer to each submit and
 * poll is chosen by the test (a fault, or a normal hub answer), counting every request that reaches it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the scripted hub answers one request. */
export type Script = (req: IncomingMessage, res: ServerResponse) => void;

/** Writes a complete response (always `Connection: close`, so the gateway never reuses a socket across a fault). */
export function answer(status: number, body: string, headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...headers });
    res.end(body);
  };
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Script {
  return answer(status, JSON.stringify(body), headers);
}

/** Sends the headers and part of the body, then destroys the socket. */
export const resetMidResponse: Script = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400', connection: 'close' });
  res.write('{"task_id":"hub-1","status":"que');
  setTimeout(() => res.socket?.destroy(), 5);
};

/** Never answers (the socket stays open until the hub is closed). */
export const hang: Script = () => undefined;

/** Sends the headers at once, then one byte of a valid body every `everyMs` (stops when the client leaves). */
export function slowBody(body: unknown, everyMs: number, status = 200): Script {
  const text = JSON.stringify(body);
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), connection: 'close' });
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed || i >= text.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      // Big steps keep an in-time slow body short; a timed-out one is still cut by the client.
      const step = Math.max(1, Math.ceil(text.length / 4));
      res.write(text.slice(i, i + step));
      i += step;
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Counts and answers requests by route. */
export class ScriptedHub {
  /** Submit requests that reached the hub. */
  submits = 0;
  /** Poll requests that reached the hub. */
  polls = 0;
  /** Answer to `POST /hub/v1/tasks`. */
  onSubmit: Script = json(201, { task_id: 'hub-1', status: 'queued', ready: false });
  /** Answer to `GET /hub/v1/tasks/:id`. */
  onPoll: Script = json(200, { task_id: 'hub-1', status: 'running', ready: false, progress: 40 });
  private server: Server | undefined;
  private port = 0;

  /** `http://127.0.0.1:<port>` (stable across stop/start). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/hub/v1/tasks') {
          this.submits += 1;
          this.onSubmit(req, res);
        } else if (req.method === 'GET' && req.url?.startsWith('/hub/v1/tasks/')) {
          this.polls += 1;
          this.onPoll(req, res);
        } else {
          json(404, { error: 'no route' })(req, res);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every connection (the port then refuses connections until start()). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}

/** A port on 127.0.0.1 where nothing listens (free a moment ago). */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
