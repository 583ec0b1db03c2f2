/**
 * `image-task-bridge translate <file|-> [--adapter <id>]`: a dry run of the translation core. Reads one
 * platform JSON request body, prints the canonical intent and the exact upstream request it becomes, and
 * never touches the network (planSubmit is pure; it normalizes and routes with planRoutes, as the server's submit does).
 */
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import type { FormPart, ImageAdapter } from '../adapter-kit/contract';
import { planSubmit } from '../routing/plan';
import { AdapterRegistry } from '../routing/registry';
import { createTranslationContainer } from '../di/container';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from '../intent/normalize';
import { BridgeError, isBridgeError, ValidationError } from '../platform/errors';
import { createReferenceUrlCheck, DEFAULT_REFERENCE_URL_POLICY } from '../security/url-policy';
import { takeCallbackUrl } from '../webhooks/callback-url';

/** Streams of one translate run (the CLI passes the process streams; tests pass their own). */
export interface TranslateIo {
  /** Where `-` reads the request from. */
  readonly stdin: NodeJS.ReadableStream;
  /** Where the one JSON document is written. */
  readonly stdout: { write(s: string): unknown };
}

/** What translate prints on success. */
export interface TranslateOutput {
  /** The canonical intent (data URIs are printed in full). */
  intent: unknown;
  /**
   * The upstream request, without headers (credentials are added by the upstream client, never here): a JSON
   * `body`, or a multipart `form` (text parts `{ name, value }`, files `{ name, filename, mimeType, base64 }`).
   */
  upstream: { adapter: string; method: string; path: string; body?: unknown; form?: unknown[] };
  /** Every conversion made: the normalizer's first, then the adapter's. */
  warnings: unknown[];
  /** Facts the adapter adds to the platform task's metadata (e.g. requested_size / actual_size). */
  metadata: Record<string, unknown>;
  /** The checked `callback_url` (webhooks), when the request has one: it goes to the task, not upstream. */
  callback_url?: string;
}

const USAGE = 'Usage: image-task-bridge translate <request.json|-> [--adapter <id>]';

/** A multipart part as printed: a text field as it is, a file with its bytes in base64 (the golden files' shape). */
function printedFormPart(part: FormPart): Record<string, string> {
  if ('value' in part) return { name: part.name, value: part.value };
  return { name: part.name, filename: part.filename, mimeType: part.mimeType, base64: Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength).toString('base64') };
}

/**
 * The server's defaults, the reference-URL policy included (public hosts only, REFERENCE_URL_POLICY's
 * default), so translate accepts exactly what a server with no overrides accepts.
 */
const TRANSLATE_NORMALIZE_OPTIONS: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, checkUrl: createReferenceUrlCheck(DEFAULT_REFERENCE_URL_POLICY) };

interface TranslateArgs {
  source: string;
  adapterId?: string;
}

function parseArgs(args: readonly string[]): TranslateArgs {
  const positional: string[] = [];
  let adapterId: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--adapter') {
      adapterId = args[++i];
      if (adapterId === undefined) throw new ValidationError('invalid_request', `--adapter needs an adapter id. ${USAGE}`);
    } else if (arg.startsWith('--adapter=')) {
      adapterId = arg.slice('--adapter='.length);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new ValidationError('invalid_request', `Unknown option ${arg}. ${USAGE}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) throw new ValidationError('invalid_request', `Give exactly one request file, or - for stdin. ${USAGE}`);
  return { source: positional[0] as string, ...(adapterId !== undefined ? { adapterId } : {}) };
}

async function readSource(source: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(source, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ValidationError('invalid_request', `Cannot read the request file ${source} (${reason}).`);
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError('invalid_request', `${source === '-' ? 'stdin' : source} is not valid JSON: ${(err as Error).message}.`);
  }
}

/** Plans one request; pure apart from reading the input. Throws BridgeError for anything the platform would refuse. */
export async function translate(args: readonly string[], stdin: NodeJS.ReadableStream): Promise<TranslateOutput> {
  const { source, adapterId } = parseArgs(args);
  const body = parseJson(await readSource(source, stdin), source);
  const container = createTranslationContainer();
  try {
    const registry = container.resolve(AdapterRegistry);
    let candidates: ImageAdapter[] | undefined;
    if (adapterId !== undefined) {
      if (!registry.has(adapterId)) {
        const known = registry.all().map((a) => a.id);
        throw new ValidationError('invalid_request', `No adapter "${adapterId}"; registered adapters: ${known.join(', ')}.`);
      }
      candidates = [registry.get(adapterId)];
    }
    // callback_url is checked as a server with WEBHOOK_SECRET set would (public hosts, no allow list).
    const split = takeCallbackUrl({ body }, { enabled: true, allowHosts: [], maxUrlLength: DEFAULT_NORMALIZE_OPTIONS.maxUrlLength });
    const plan = planSubmit(split.raw, registry, TRANSLATE_NORMALIZE_OPTIONS, candidates);
    const { method, path, body: upstreamBody, form } = plan.built.request;
    return {
      intent: plan.intent,
      upstream: {
        adapter: plan.adapter.id,
        method,
        path,
        ...(form === undefined ? { body: upstreamBody } : { form: form.map(printedFormPart) }),
      },
      warnings: [...plan.intent.warnings, ...plan.built.warnings],
      metadata: { ...plan.built.metadata },
      ...(split.callbackUrl !== undefined ? { callback_url: split.callbackUrl } : {}),
    };
  } finally {
    await container.dispose();
  }
}

/**
 * Runs the translate command: prints ONE JSON document and returns the exit code, 0 for a request the
 * platform accepts, 1 with `{ error: <envelope>, status: <http status> }` for one it refuses (including
 * an unreadable file or invalid JSON, reported as invalid_request).
 */
export async function runTranslate(args: string[], io: TranslateIo): Promise<number> {
  try {
    const output = await translate(args, io.stdin);
    io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  } catch (err) {
    const error = isBridgeError(err) ? err : new BridgeError('internal_error', `The translation failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`);
    io.stdout.write(`${JSON.stringify({ error: error.toEnvelope(), status: error.httpStatus }, null, 2)}\n`);
    return 1;
  }
}
