/**
 * The sandbox hub: a local HTTP server that speaks the hub protocol of adapters/hub/hub-api.ts
 * (adapters/hub/hub-api.ts) and returns real, small images, so the bridge runs end to end with no keys.
 *
 * Endpoints
 * - `POST /hub/v1/tasks` with `Authorization: Bearer <apiKey>` and `{ model, input }` -> 202
 *   `{ task_id, status: 'queued', ready: false }`. Validation follows the hub model reference
 *   (sandbox-models.ts): 422 `{ error: { code, message }, detail: [{ loc, msg, type }] }`.
 * - `GET /hub/v1/tasks/:id` (same auth) -> `{ task_id, model, status, ready, progress, output?, error? }`.
 *   A task is `queued` (progress 0) for `queuedMs`, then `running` for `runningMs` (progress 30 in the first
 *   half, 70 in the second), then `succeeded` (progress 100, `output.images`, and `output.seed` for models
 *   that take a seed) — all computed from the injected clock at poll time.
 * - `GET|HEAD /files/:name` (no auth, like a CDN) -> the image bytes with the right Content-Type. Images are
 *   small (long edge 256 px, see sandbox-images.ts) and the task output reports their true small size.
 *   They are rendered on first request and kept in a bounded cache (re-rendered identically if evicted).
 *
 * Failure modes, chosen on submit by the prompt containing `[sandbox:<mode>]` or by the header
 * `X-Sandbox-Mode: <mode>` (comma-separated for several; `slow` combines with any one of the others):
 * - `fail`: the task runs normally, then ends `ready: true, status: 'failed'`,
 *   `error: { code: 'content_policy', message }`.
 * - `slow`: queued and running times are 10x longer.
 * - `malformed`: every poll answers 200 with a body that is not JSON (truncated, still labelled JSON).
 * - `wrong_shape`: every poll answers 200 with JSON of the wrong shape (no `status`/`ready`).
 * - `reject`: the submit is refused with 422 `{ error: { code: 'content_policy', message } }`.
 * - `error500`: the submit fails with 500 `{ error: { code: 'internal_error', message } }` (before validation).
 * - `never`: the task stays `running` at progress 70 forever.
 * An unknown mode, or two modes other than `slow`, is a 422 naming the known modes.
 *
 * Other answers: wrong or missing key -> 401; unknown task id -> 404; bad JSON -> 400; body over 32 MiB -> 413;
 * more than `maxTasks` stored and none finished to evict -> 429 with Retry-After.
 *
 * The same server also plays a **synchronous** upstream, Google's Gemini API (sandbox-gemini.ts):
 * - `POST /v1beta/models/<model>:generateContent` with `x-goog-api-key: <apiKey>` answers, after the task's whole
 *   time (`queuedMs + runningMs`), 200 with one small PNG as base64 `inlineData`. Requests are checked by Google's
 *   rules (validateSandboxGenerate): 400 INVALID_ARGUMENT, 404 NOT_FOUND for an unknown model, 403
 *   PERMISSION_DENIED for a wrong or missing key, Google's error shape `{ error: { code, message, status } }`.
 * - The same modes: `fail` answers finishReason IMAGE_SAFETY with no image; `reject` answers a blocked prompt
 *   (`promptFeedback.blockReason`); `error500` 500 INTERNAL at once; `malformed` / `wrong_shape` an unreadable
 *   answer; `never` no answer at all; `slow` 10x the time. More than `maxTasks` calls open at once -> 429
 *   RESOURCE_EXHAUSTED.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../platform/errors';
import { assertSharpInstalled, renderSandboxImage, sandboxImageSize } from './sandbox-images';
import { geminiBlockedAnswer, geminiErrorBody, geminiFilteredAnswer, geminiImageAnswer, validateSandboxGenerate } from './sandbox-gemini';
import { SANDBOX_CONTENT_TYPES, SANDBOX_MODELS, validateSandboxSubmit, type SandboxJob } from './sandbox-models';

/** Failure modes a submit can select (see the module comment). */
export const SANDBOX_MODES = ['fail', 'slow', 'malformed', 'wrong_shape', 'reject', 'error500', 'never'] as const;
/** A failure mode. */
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Header that selects failure modes on submit. */
export const SANDBOX_MODE_HEADER = 'x-sandbox-mode';

/** How long each phase of a task lasts. */
export interface SandboxTiming {
  /** Milliseconds a task stays queued (default 300). */
  readonly queuedMs?: number;
  /** Milliseconds a task runs before it finishes (default 1200). */
  readonly runningMs?: number;
}

/** Options of {@link startSandboxHub}. */
export interface SandboxHubOptions {
  /** Interface to bind; only 127.0.0.1 is allowed (the sandbox is for local use). */
  readonly host?: string;
  /** Port; 0 (default) picks a free one. */
  readonly port?: number;
  /** The key clients must send as `Authorization: Bearer <key>`; default a random `sk-sandbox-...` key. */
  readonly apiKey?: string;
  /** Phase durations. */
  readonly timing?: SandboxTiming;
  /** Time source in ms since epoch (default Date.now); tests pass a controlled one. */
  readonly clock?: () => number;
  /** Most tasks kept in memory; the oldest finished task is evicted first (default 1000). */
  readonly maxTasks?: number;
  /** Base URL put into image URLs (default the server's own base URL). */
  readonly publicBaseUrl?: string;
}

/** Counters for tests and logs. */
export interface SandboxHubStats {
  /** Submit requests received (any outcome, after authentication). */
  readonly submits: number;
  /** Submits that created a task. */
  readonly accepted: number;
  /** Poll requests received (after authentication, including unknown ids). */
  readonly polls: number;
  /** Image file requests received. */
  readonly fileRequests: number;
  /** Gemini generateContent calls received (any outcome). */
  readonly generates: number;
  /** Tasks currently stored. */
  readonly tasks: number;
  /** Polls per stored task id. */
  readonly pollsByTask: Readonly<Record<string, number>>;
}

/** A running sandbox hub. */
export interface SandboxHub {
  /** `http://127.0.0.1:<port>`: use as HUB_BASE_URL. */
  readonly baseUrl: string;
  /** The key to send as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Stops listening and closes every connection; resolves when the server is closed. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): SandboxHubStats;
}

type Outcome = 'succeed' | 'fail' | 'malformed' | 'wrong_shape' | 'never';

interface SandboxTask {
  readonly id: string;
  readonly job: SandboxJob;
  readonly seed: number;
  readonly createdAt: number;
  readonly queuedMs: number;
  readonly runningMs: number;
  readonly outcome: Outcome;
  readonly size: { readonly width: number; readonly height: number };
  polls: number;
}

const DEFAULT_QUEUED_MS = 300;
const DEFAULT_RUNNING_MS = 1200;
const DEFAULT_MAX_TASKS = 1000;
const SLOW_FACTOR = 10;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_CACHED_IMAGES = 256;
const TASK_ID_PATTERN = /^sbx_[0-9a-f]{32}$/;
const FILE_PATTERN = /^(sbx_[0-9a-f]{32})-(\d+)\.(png|jpeg|webp)$/;
const MODE_IN_PROMPT = /\[sandbox:([^\]]*)\]/gi;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendRaw(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpProblem(413, 'payload_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, {}, { connection: 'close' }));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function checkOptions(options: SandboxHubOptions): void {
  if (options.host !== undefined && options.host !== '127.0.0.1') {
    throw new ConfigError(`The sandbox hub only binds 127.0.0.1 (got host "${options.host}"); it is a local simulator, not a service.`);
  }
  const { port, maxTasks, timing } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ConfigError(`Sandbox hub port must be an integer from 0 to 65535 (got ${port}).`);
  if (maxTasks !== undefined && (!Number.isInteger(maxTasks) || maxTasks < 1)) throw new ConfigError(`Sandbox hub maxTasks must be a positive integer (got ${maxTasks}).`);
  for (const key of ['queuedMs', 'runningMs'] as const) {
    const value = timing?.[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new ConfigError(`Sandbox hub timing.${key} must be a number >= 0 (got ${value}).`);
  }
  if (options.apiKey !== undefined && options.apiKey.trim() === '') throw new ConfigError('Sandbox hub apiKey must not be empty.');
  if (options.publicBaseUrl !== undefined && !/^https?:\/\/[^/]/.test(options.publicBaseUrl)) {
    throw new ConfigError(`Sandbox hub publicBaseUrl must be an http(s) URL (got "${options.publicBaseUrl}").`);
  }
}

/** Picks the modes of a submit from the header and the prompt; throws 422 for unknown or conflicting ones. */
function resolveModes(header: string | string[] | undefined, prompt: unknown): Set<SandboxMode> {
  const names: string[] = [];
  const headerText = Array.isArray(header) ? header.join(',') : header;
  if (headerText) names.push(...headerText.split(','));
  if (typeof prompt === 'string') for (const match of prompt.matchAll(MODE_IN_PROMPT)) names.push(match[1] ?? '');
  const modes = new Set<SandboxMode>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (!(SANDBOX_MODES as readonly string[]).includes(name)) {
      throw new HttpProblem(422, 'unknown_sandbox_mode', `Unknown sandbox mode "${raw.trim()}"; known modes: ${SANDBOX_MODES.join(', ')}.`);
    }
    modes.add(name as SandboxMode);
  }
  const outcomes = [...modes].filter((m) => m !== 'slow');
  if (outcomes.length > 1) {
    throw new HttpProblem(422, 'conflicting_sandbox_modes', `Sandbox modes ${outcomes.join(' and ')} cannot be combined; only slow combines with one other mode.`);
  }
  return modes;
}

/** Starts a sandbox hub on 127.0.0.1; resolves once it listens. */
export async function startSandboxHub(options: SandboxHubOptions = {}): Promise<SandboxHub> {
  checkOptions(options);
  // Refuse to start rather than fail on the first image: sharp is an optional peer dependency.
  assertSharpInstalled();
  const apiKey = options.apiKey ?? `sk-sandbox-${randomBytes(16).toString('hex')}`;
  const expectedAuth = digest(`Bearer ${apiKey}`);
  const clock = options.clock ?? Date.now;
  const queuedMs = options.timing?.queuedMs ?? DEFAULT_QUEUED_MS;
  const runningMs = options.timing?.runningMs ?? DEFAULT_RUNNING_MS;
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS;
  const tasks = new Map<string, SandboxTask>();
  const images = new Map<string, Promise<Buffer>>();
  const counters = { submits: 0, accepted: 0, polls: 0, fileRequests: 0, generates: 0 };
  const expectedGoogleKey = digest(apiKey);
  /** generateContent calls waiting to answer, ended by close(). */
  const waiting = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let openGenerates = 0;
  let publicBaseUrl = '';

  const isFinished = (task: SandboxTask, now: number): boolean =>
    task.outcome !== 'never' && now - task.createdAt >= task.queuedMs + task.runningMs;

  function authorize(req: IncomingMessage): void {
    const given = req.headers.authorization;
    // Comparing digests keeps the comparison constant-time whatever the length of the header.
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expectedAuth)) {
      throw new HttpProblem(401, 'unauthorized', 'Missing or invalid API key: send Authorization: Bearer <key>.', {}, { 'www-authenticate': 'Bearer' });
    }
  }

  function makeRoom(now: number): void {
    if (tasks.size < maxTasks) return;
    // Map iteration order is insertion order, so the first finished task found is the oldest one.
    for (const task of tasks.values()) {
      if (isFinished(task, now)) {
        tasks.delete(task.id);
        for (let i = 0; i < task.job.numImages; i++) images.delete(fileName(task, i));
        return;
      }
    }
    throw new HttpProblem(429, 'rate_limited', `The sandbox hub holds ${maxTasks} unfinished tasks; retry when some have finished.`, {}, { 'retry-after': '1' });
  }

  function fileName(task: SandboxTask, index: number): string {
    return `${task.id}-${index}.${task.job.format}`;
  }

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    authorize(req);
    counters.submits++;
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpProblem(400, 'invalid_json', 'The request body is not valid JSON.');
    }
    const input = typeof body === 'object' && body !== null ? (body as { input?: unknown }).input : undefined;
    const prompt = typeof input === 'object' && input !== null ? (input as { prompt?: unknown }).prompt : undefined;
    const modes = resolveModes(req.headers[SANDBOX_MODE_HEADER], prompt);
    if (modes.has('error500')) throw new HttpProblem(500, 'internal_error', 'The sandbox hub failed on purpose (sandbox mode error500).');
    const validation = validateSandboxSubmit(body);
    if (!validation.ok) {
      const message = validation.problems.map((p) => `${p.loc.slice(1).join('.')}: ${p.msg}`).join('; ');
      throw new HttpProblem(422, validation.unknownModel ? 'unknown_model' : 'validation_error', message, { detail: validation.problems });
    }
    if (modes.has('reject')) throw new HttpProblem(422, 'content_policy', 'The prompt was rejected by the content policy (sandbox mode reject).');
    const now = clock();
    makeRoom(now);
    const { job } = validation;
    const id = `sbx_${randomBytes(16).toString('hex')}`;
    const factor = modes.has('slow') ? SLOW_FACTOR : 1;
    const outcome: Outcome = modes.has('fail') ? 'fail' : modes.has('malformed') ? 'malformed' : modes.has('wrong_shape') ? 'wrong_shape' : modes.has('never') ? 'never' : 'succeed';
    tasks.set(id, {
      id,
      job,
      seed: job.seed ?? digest(id).readUInt32BE(0),
      createdAt: now,
      queuedMs: queuedMs * factor,
      runningMs: runningMs * factor,
      outcome,
      size: sandboxImageSize(job.aspect),
      polls: 0,
    });
    counters.accepted++;
    sendJson(res, 202, { task_id: id, status: 'queued', ready: false });
  }

  function taskBody(task: SandboxTask, now: number): Record<string, unknown> {
    const elapsed = now - task.createdAt;
    const head = { task_id: task.id, model: task.job.model };
    if (elapsed < task.queuedMs) return { ...head, status: 'queued', ready: false, progress: 0 };
    if (!isFinished(task, now)) {
      const fraction = task.runningMs === 0 ? 1 : (elapsed - task.queuedMs) / task.runningMs;
      return { ...head, status: 'running', ready: false, progress: fraction < 0.5 ? 30 : 70 };
    }
    if (task.outcome === 'fail') {
      return { ...head, status: 'failed', ready: true, progress: 100, error: { code: 'content_policy', message: 'The output was blocked by the content policy (sandbox mode fail).' } };
    }
    const baseId = task.job.model.replace(/\/edit$/, '');
    const outputImages = Array.from({ length: task.job.numImages }, (_, i) => ({
      url: `${publicBaseUrl}/files/${fileName(task, i)}`,
      content_type: SANDBOX_CONTENT_TYPES[task.job.format],
      width: task.size.width,
      height: task.size.height,
    }));
    const output = SANDBOX_MODELS[baseId]?.seed ? { images: outputImages, seed: task.seed } : { images: outputImages };
    return { ...head, status: 'succeeded', ready: true, progress: 100, output };
  }

  function poll(req: IncomingMessage, res: ServerResponse, id: string): void {
    authorize(req);
    counters.polls++;
    const task = TASK_ID_PATTERN.test(id) ? tasks.get(id) : undefined;
    if (!task) throw new HttpProblem(404, 'task_not_found', 'No task with this id.');
    task.polls++;
    if (task.outcome === 'malformed') return sendRaw(res, 200, 'application/json; charset=utf-8', `{"task_id":"${task.id}","status":"runn`);
    if (task.outcome === 'wrong_shape') return sendJson(res, 200, { id: task.id, state: 'done', result: 'see files' });
    sendJson(res, 200, taskBody(task, clock()));
  }

  async function file(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    counters.fileRequests++;
    const match = FILE_PATTERN.exec(name);
    const task = match ? tasks.get(match[1] as string) : undefined;
    const index = Number(match?.[2]);
    if (!task || task.outcome !== 'succeed' || !isFinished(task, clock()) || index >= task.job.numImages || match?.[3] !== task.job.format) {
      throw new HttpProblem(404, 'file_not_found', 'No such file.');
    }
    let rendering = images.get(name);
    if (rendering) {
      images.delete(name); // re-insert below: most recently used last
    } else {
      rendering = renderSandboxImage({ prompt: task.job.prompt, seed: task.seed, index, format: task.job.format, ...task.size });
      rendering.catch(() => images.delete(name));
    }
    images.set(name, rendering);
    if (images.size > MAX_CACHED_IMAGES) images.delete(images.keys().next().value as string);
    const bytes = await rendering;
    res.writeHead(200, { 'content-type': SANDBOX_CONTENT_TYPES[task.job.format], 'content-length': bytes.length, 'cache-control': 'public, max-age=3600' });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  /** Waits `ms` (real time), or until close(). */
  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => done(), ms), resolve: () => done() };
      function done(): void {
        clearTimeout(entry.timer);
        waiting.delete(entry);
        resolve();
      }
      waiting.add(entry);
    });
  }

  /** Gemini's generateContent (see the module comment); errors in Google's shape. */
  async function generate(req: IncomingMessage, res: ServerResponse, model: string): Promise<void> {
    counters.generates++;
    const given = req.headers['x-goog-api-key'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expectedGoogleKey)) {
      return sendJson(res, 403, geminiErrorBody(403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers: send a valid API key in x-goog-api-key.'));
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (err) {
      if (err instanceof HttpProblem) return sendJson(res, err.status, geminiErrorBody(err.status, 'INVALID_ARGUMENT', err.message), err.headers);
      return sendJson(res, 400, geminiErrorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
    }
    const parts = (body as { contents?: Array<{ parts?: Array<{ text?: unknown }> }> } | null)?.contents?.[0]?.parts;
    const prompt = Array.isArray(parts) ? parts.find((p) => typeof p?.text === 'string')?.text : undefined;
    let modes: Set<SandboxMode>;
    try {
      modes = resolveModes(req.headers[SANDBOX_MODE_HEADER], prompt);
    } catch (err) {
      return sendJson(res, 400, geminiErrorBody(400, 'INVALID_ARGUMENT', (err as Error).message));
    }
    if (modes.has('error500')) return sendJson(res, 500, geminiErrorBody(500, 'INTERNAL', 'An internal error has occurred (sandbox mode error500).'));
    const verdict = validateSandboxGenerate(model, body);
    if (!verdict.ok) return sendJson(res, verdict.unknownModel ? 404 : 400, geminiErrorBody(verdict.unknownModel ? 404 : 400, verdict.unknownModel ? 'NOT_FOUND' : 'INVALID_ARGUMENT', verdict.message));
    if (openGenerates >= maxTasks) {
      return sendJson(res, 429, geminiErrorBody(429, 'RESOURCE_EXHAUSTED', `The sandbox holds ${maxTasks} generateContent calls open; retry when some have answered.`), { 'retry-after': '1' });
    }
    const { job } = verdict;
    const tokens = Math.max(1, Math.ceil(job.prompt.length / 4)) + job.references * 258;
    openGenerates++;
    try {
      // The call takes a task's whole time: it is the generation itself (a synchronous upstream).
      await wait((queuedMs + runningMs) * (modes.has('slow') ? SLOW_FACTOR : 1));
      if (modes.has('never')) return await new Promise<void>((resolve) => waiting.add({ timer: setTimeout(() => undefined, 0), resolve }));
      if (res.destroyed) return;
      if (modes.has('reject')) return sendJson(res, 200, geminiBlockedAnswer(model, tokens));
      if (modes.has('fail')) return sendJson(res, 200, geminiFilteredAnswer(model, tokens));
      if (modes.has('malformed')) return sendRaw(res, 200, 'application/json; charset=utf-8', '{"candidates":[{"content":{"parts":[{"inlineDa');
      if (modes.has('wrong_shape')) return sendJson(res, 200, { result: 'see files' });
      const seed = job.seed ?? randomBytes(4).readUInt32BE(0);
      const png = await renderSandboxImage({ prompt: job.prompt, seed, index: 0, format: 'png', ...sandboxImageSize(job.aspect) });
      sendJson(res, 200, geminiImageAnswer(model, png, tokens));
    } finally {
      openGenerates--;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const method = req.method ?? 'GET';
    const allow = (methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpProblem(405, 'method_not_allowed', `Use ${methods.join(' or ')} on ${path}.`, {}, { allow: methods.join(', ') });
    };
    if (path === '/hub/v1/tasks') {
      allow(['POST']);
      return submit(req, res);
    }
    const taskMatch = /^\/hub\/v1\/tasks\/([^/]+)$/.exec(path);
    if (taskMatch) {
      allow(['GET']);
      return poll(req, res, decodeURIComponent(taskMatch[1] as string));
    }
    const generateMatch = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    if (generateMatch) {
      allow(['POST']);
      return generate(req, res, decodeURIComponent(generateMatch[1] as string));
    }
    const fileMatch = /^\/files\/([^/]+)$/.exec(path);
    if (fileMatch) {
      allow(['GET', 'HEAD']);
      return file(req, res, decodeURIComponent(fileMatch[1] as string));
    }
    throw new HttpProblem(404, 'not_found', `No route for ${method} ${path}.`);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpProblem) {
        sendJson(res, err.status, { error: { code: err.code, message: err.message }, ...err.extra }, err.headers);
      } else {
        sendJson(res, 500, { error: { code: 'internal_error', message: 'The sandbox hub hit an unexpected error.' } });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  publicBaseUrl = (options.publicBaseUrl ?? baseUrl).replace(/\/+$/, '');

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    apiKey,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
        for (const entry of [...waiting]) entry.resolve();
      });
      return closing;
    },
    stats() {
      return { ...counters, tasks: tasks.size, pollsByTask: Object.fromEntries([...tasks.values()].map((t) => [t.id, t.polls])) };
    },
  };
}
