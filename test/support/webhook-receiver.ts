/**
 * A webhook receiver for tests: a real node:http server on loopback that records every request (headers and
 * raw body) and counts every TCP connection, so a test can assert that a refused delivery never connected.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** How the receiver answers request number `index` (0-based). */
export type Responder = (index: number, request: http.IncomingMessage, response: http.ServerResponse) => void;

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  connections = 0;
  private readonly server: http.Server;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly responder: Responder = (_i, _q, s) => s.writeHead(204).end()) {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(request.headers)) if (typeof v === 'string') headers[k] = v;
        const index = this.received.length;
        this.received.push({ path: request.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
        this.responder(index, request, response);
        for (const w of this.waiters.filter((x) => this.received.length >= x.count)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    });
    this.server.on('connection', () => (this.connections += 1));
  }

  /** Listens on 127.0.0.1 (`port` 0: ephemeral); resolves with the port. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
