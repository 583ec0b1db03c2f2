/**
 * The HTTP side of `generate`: submit (JSON or multipart), query, and download a result, over the global
 * fetch. Answers are read with a size bound and checked with the platform's own zod schemas; failures become
 * ClientError with the exit code of their kind. The API key goes to the bridge only, never to image URLs.
 */
import { errorEnvelopeSchema, platformTaskSchema, queryEnvelopeSchema, type PlatformTask } from '../platform/task';
import { EXIT } from './generate-options';

/** Largest API answer read (a task is a few KiB). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Largest image downloaded. */
export const MAX_IMAGE_BYTES = 100 * 1024 * 1024;
/** Time allowed for one API call and for one download. */
const CALL_TIMEOUT_MS = 60_000;

/** A failure with the exit code it maps to. */
export class ClientError extends Error {
  constructor(
    message: string,
    /** One of EXIT. */
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The submit body: JSON fields, plus files for a multipart submit. */
export interface SubmitBody {
  /** Fields of the platform request (strings, integers, string arrays). */
  readonly fields: Readonly<Record<string, string | number | readonly string[]>>;
  /** Files uploaded as the multipart field `image`; none means a JSON submit. */
  readonly files: ReadonlyArray<{ readonly name: string; readonly type: string; readonly bytes: Uint8Array }>;
}

function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Reads at most `max` bytes of a body; more is an error (the rest is not read). */
async function readBounded(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new ClientError(`${what} is larger than ${max} bytes.`, EXIT.network);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new ClientError(`${what} is larger than ${max} bytes.`, EXIT.network);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Talks to one bridge with one key. */
export class BridgeClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
  ) {}

  private async call(method: string, path: string, init: { headers?: Record<string, string>; body?: string | FormData } = {}): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, accept: 'application/json', ...init.headers },
        ...(init.body !== undefined ? { body: init.body } : {}),
        redirect: 'error',
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ClientError(`cannot reach the bridge at ${this.baseUrl} (${reason(err)}).`, EXIT.network);
    }
    let text: string;
    try {
      text = (await readBounded(res, MAX_ANSWER_BYTES, `the answer to ${method} ${path}`)).toString('utf8');
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw new ClientError(`the connection to ${this.baseUrl} failed while reading the answer (${reason(err)}).`, EXIT.network);
    }
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw new ClientError(`HTTP ${res.status} from ${method} ${path} is not JSON: ${JSON.stringify(text.slice(0, 200))}`, EXIT.apiError);
    }
    if (res.status >= 400) {
      const envelope = errorEnvelopeSchema.safeParse(json);
      if (!envelope.success) throw new ClientError(`HTTP ${res.status} from ${method} ${path}: ${text.slice(0, 200)}`, EXIT.apiError);
      const { code, message, param } = envelope.data;
      throw new ClientError(`HTTP ${res.status} ${code}${param !== undefined ? ` (${param})` : ''}: ${message}`, EXIT.apiError);
    }
    return { status: res.status, json };
  }

  private static task(json: unknown, what: string): PlatformTask {
    const parsed = platformTaskSchema.safeParse(json);
    if (!parsed.success) throw new ClientError(`${what} is not a platform task: ${parsed.error.issues[0]?.message ?? 'wrong shape'}.`, EXIT.apiError);
    return parsed.data;
  }

  /** POST /v1/images/tasks: JSON without files, multipart with them. */
  async submit(body: SubmitBody, idempotencyKey?: string): Promise<PlatformTask> {
    const headers: Record<string, string> = idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey } : {};
    let payload: string | FormData;
    if (body.files.length === 0) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.fields);
    } else {
      const form = new FormData();
      for (const [name, value] of Object.entries(body.fields)) {
        if (Array.isArray(value)) for (const item of value as readonly string[]) form.append(name, item);
        else form.append(name, String(value));
      }
      for (const file of body.files) form.append('image', new Blob([file.bytes], { type: file.type }), file.name);
      payload = form;
    }
    const { status, json } = await this.call('POST', '/v1/images/tasks', { headers, body: payload });
    if (status !== 201 && status !== 200) throw new ClientError(`the submit answered HTTP ${status}, not 201.`, EXIT.apiError);
    return BridgeClient.task(json, 'the submit answer');
  }

  /** GET /v1/images/tasks/{task_id}. */
  async get(taskId: string): Promise<PlatformTask> {
    const { json } = await this.call('GET', `/v1/images/tasks/${encodeURIComponent(taskId)}`);
    const parsed = queryEnvelopeSchema.safeParse(json);
    if (!parsed.success) return BridgeClient.task((json as { data?: unknown } | null)?.data, 'the query answer');
    return parsed.data.data;
  }

  /** Downloads one result (relative URLs are the bridge's); no API key is sent. */
  async download(url: string): Promise<{ bytes: Buffer; contentType: string }> {
    const target = new URL(url, `${this.baseUrl}/`);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new ClientError(`the result URL ${target.protocol} is not http(s).`, EXIT.network);
    let res: Response;
    try {
      res = await fetch(target, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    } catch (err) {
      throw new ClientError(`cannot download ${target.href} (${reason(err)}).`, EXIT.network);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new ClientError(`cannot download ${target.href}: HTTP ${res.status}.`, EXIT.network);
    }
    try {
      return { bytes: await readBounded(res, MAX_IMAGE_BYTES, target.href), contentType: res.headers.get('content-type') ?? '' };
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw new ClientError(`the download of ${target.href} failed (${reason(err)}).`, EXIT.network);
    }
  }
}
