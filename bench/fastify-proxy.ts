/**
 * Rung 2 of the cost ladder (bench/ladder.ts): the floor's forwarding (bench/floor-proxy.ts) inside a fastify app,
 * the same fastify 5 as the gateway's, with default settings, the logger off and no plugins. One POST route and one
 * GET route forward method, path, headers and body to the mock hub through a node:http keep-alive agent and answer
 * the mock's status, headers and body. The JSON body is read as a string (a content-type parser with parseAs
 * 'string') and never parsed, so the step from the floor to here is the framework's cost. Bench-only code.
 *
 * Run as a child process: `node fastify-proxy.js <upstream base URL>`; prints `{"port":N}` on stdout, exits when its
 * stdin closes or after 30 minutes.
 */
import http from 'node:http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { serveAsBenchChild } from './child-server';
import { send } from './load';

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:1');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

async function forward(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const headers = { ...(request.headers as Record<string, string>), host: target.host };
  const up = await send(agent, target, { method: request.method as 'GET' | 'POST', path: request.url, headers, body: request.body as string | undefined });
  return reply.code(up.status).headers(up.headers).send(up.body);
}

app.post('/hub/v1/tasks', forward);
app.get('/hub/v1/tasks/:id', forward);
void app.ready().then(() => serveAsBenchChild(app.server, 30 * 60_000));
