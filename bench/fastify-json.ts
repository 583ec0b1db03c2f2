/**
 * Rung 3 of the cost ladder (bench/ladder.ts): rung 2 (bench/fastify-proxy.ts) plus the JSON work any translating
 * gateway does. It takes the gateway's platform requests (floorRequests' gwSubmit; a poll is a GET of
 * /v1/images/tasks/<mock task id>), parses the submit body with JSON.parse, builds the hub request the gateway sends
 * (the same bytes as floorRequests' directSubmit) with JSON.stringify, then parses the mock's answer and sends back a
 * small platform task object. No auth, validation, task store, engine, metrics or logging: that is the gateway's own
 * work (rung 4). Bench-only code.
 *
 * Run as a child process: `node fastify-json.js <upstream base URL> <hub key>`; prints `{"port":N}` on stdout, exits
 * when its stdin closes or after 30 minutes.
 */
import http from 'node:http';
import Fastify from 'fastify';
import { serveAsBenchChild } from './child-server';
import { send } from './load';

interface PlatformSubmit {
  model: string;
  prompt: string;
  size: string;
  quality: string;
  output_format: string;
  n: number;
}
interface HubTask {
  task_id: string;
  status: string;
  progress?: number;
}

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:1');
const hubHeaders = { 'content-type': 'application/json', authorization: `Bearer ${process.argv[3] ?? ''}` };
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const PRESETS: Readonly<Record<string, string>> = { '1024x1024': 'square_hd', '1024x768': 'landscape_4_3', '768x1024': 'portrait_4_3' };

const platformTask = (body: string): object => {
  const t = JSON.parse(body) as HubTask;
  return { task_id: t.task_id, status: t.status, progress: `${t.progress ?? 0}%`, result_url: null, metadata: { task_type: 'text2image', result_count: 0 }, error: null };
};

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, JSON.parse(body as string)));

app.post('/v1/images/tasks', async (request, reply) => {
  const p = request.body as PlatformSubmit;
  const body = JSON.stringify({ model: p.model, input: { prompt: p.prompt, num_images: p.n, output_format: p.output_format, image_size: PRESETS[p.size] ?? p.size, quality: p.quality } });
  const up = await send(agent, target, { method: 'POST', path: '/hub/v1/tasks', headers: hubHeaders, body });
  return reply.code(up.status).send(platformTask(up.body));
});
app.get('/v1/images/tasks/:id', async (request, reply) => {
  const up = await send(agent, target, { method: 'GET', path: `/hub/v1/tasks/${(request.params as { id: string }).id}`, headers: hubHeaders });
  return reply.code(up.status).send(platformTask(up.body));
});
void app.ready().then(() => serveAsBenchChild(app.server, 30 * 60_000));
