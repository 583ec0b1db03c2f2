/**
 * One owner must not starve the others of a channel's sockets, and time spent waiting for a socket is not upstream
 * time (issue 10, docs/reliability.md "hostile clients"). The real client against a loopback server that holds
 * every request until the test releases it; two sockets per channel.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import type { ImageAdapter, UpstreamRequest } from '../../src/adapter-kit/contract';
import { isUpstreamError } from '../../src/platform/errors';
import type { Channel } from '../../src/routing/channels';
import { HttpUpstreamClient } from '../../src/upstream/http-upstream-client';
import { bearerAdapter } from '../support/mini-adapter';

const adapter: ImageAdapter = bearerAdapter;

/** A server that records the order requests arrive in (by their `tag`) and answers each when released. */
class HoldingServer {
  readonly arrived: string[] = [];
  private readonly held: Array<() => void> = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const tag = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tag: string }).tag;
        this.arrived.push(tag);
        this.held.push(() => {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ task_id: tag, status: 'queued', ready: false }));
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** Waits until `n` requests have arrived (bounded). */
  async arrivals(n: number): Promise<void> {
    for (let i = 0; i < 400 && this.arrived.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.arrived.length < n) throw new Error(`only ${this.arrived.length} of ${n} requests arrived: ${this.arrived.join(',')}`);
  }

  /** Answers the oldest held request. */
  releaseOne(): void {
    this.held.shift()?.();
  }

  releaseAll(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  async stop(): Promise<void> {
    this.releaseAll();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let server: HoldingServer;
let client: HttpUpstreamClient;
let channel: Channel;
beforeAll(() => nock.restore());
beforeEach(async () => {
  server = new HoldingServer();
  await server.start();
  channel = { id: 'hub', adapterId: 'hub', baseUrl: server.url, apiKey: 'hub-key-0123456789', priority: 0, weight: 1 };
});
afterEach(async () => {
  await client.close();
  await server.stop();
});

const submit = (tag: string): UpstreamRequest => ({ method: 'POST', path: '/hub/v1/tasks', body: { tag } });

it("another owner's submit gets the next free socket, not the one after a flooding owner's whole queue", async () => {
  client = new HttpUpstreamClient(undefined, undefined, undefined, undefined, { maxSocketsPerChannel: 2, submitTimeoutMs: 10_000 });
  const flood = Array.from({ length: 6 }, (_, i) => client.send(channel, adapter, submit(`a${i}`), 'submit', { owner: 'alice' }));
  await server.arrivals(2);
  const bob = client.send(channel, adapter, submit('b0'), 'submit', { owner: 'bob' });
  // One socket comes free: bob's request takes it, ahead of alice's four queued ones.
  server.releaseOne();
  await server.arrivals(3);
  expect(server.arrived.slice(0, 3)).toStrictEqual(['a0', 'a1', 'b0']);
  while (server.arrived.length < 7) {
    server.releaseAll();
    await server.arrivals(server.arrived.length + 1);
  }
  server.releaseAll();
  await expect(bob).resolves.toMatchObject({ status: 201 });
  await Promise.all(flood);
  expect([...server.arrived].sort()).toStrictEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'b0']);
});

it('time waiting for a socket does not count against the timeout; a request that never got one fails as not sent', async () => {
  client = new HttpUpstreamClient(undefined, undefined, undefined, undefined, { maxSocketsPerChannel: 1, submitTimeoutMs: 1000, retry: { maxAttempts: 1 } });
  const first = client.send(channel, adapter, submit('first'), 'submit', { owner: 'alice' });
  await server.arrivals(1);
  const second = client.send(channel, adapter, submit('second'), 'submit', { owner: 'bob' });
  const third = client.send(channel, adapter, submit('third'), 'submit', { owner: 'carol' }).catch((e: unknown) => e);
  // The first request holds the only socket for ~600 ms; the second waits for it, then has its own 1000 ms
  // (600 + 600 is past the timeout: counted from the send, the second would time out after reaching the upstream).
  await new Promise((resolve) => setTimeout(resolve, 600));
  server.releaseOne();
  await expect(first).resolves.toMatchObject({ status: 201 });
  await server.arrivals(2);
  await new Promise((resolve) => setTimeout(resolve, 600));
  server.releaseOne();
  await expect(second).resolves.toMatchObject({ status: 201, body: { task_id: 'second' } });
  // The third waited longer than its timeout for the socket: it was never sent, so it may go elsewhere.
  const err: unknown = await third;
  expect(isUpstreamError(err) && err.kind === 'connection_refused' && err.neverLeft).toBe(true);
  expect((err as Error).message).toBe('upstream hub: none of its 1 connections came free within 1000 ms; the request was not sent.');
  expect(server.arrived).toStrictEqual(['first', 'second']);
});
