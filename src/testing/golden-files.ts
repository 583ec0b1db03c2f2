/**
 * Golden cases as files, the one golden format every adapter uses: a platform request
 * `<dir>/<case>.request.json` and the exact upstream request it must build, `<dir>/<case>.upstream.json`:
 *
 *   { "adapter": "<id>", "method": "POST", "path": "/...", "body": {...}, "warnings": [...], "metadata": {...} }
 *
 * plus, when the request has them, `headers`, `form` (a multipart body: text parts `{ name, value }`, file parts
 * `{ name, filename, mimeType, base64 }`), `acceptStatuses`, `timeoutMs` and `maxResponseBytes`. Every field the
 * adapter builds must be in the file: the comparison is exact (a file part's bytes compared as base64). A
 * refusal golden holds `{ adapter, status, error }` instead and is run by test/translation/golden.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FormPart, UpstreamRequest } from '../adapter-kit/contract';
import type { Warning } from '../intent/intent';
import type { GoldenCase } from './adapter-conformance';

/** A multipart part as a golden file writes it: a text field, or a file with its bytes in base64. */
export type GoldenFormPart =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly filename: string; readonly mimeType: string; readonly base64: string };

/** An upstream request as a golden file writes it (a form's bytes in base64). */
export type GoldenRequestView = Omit<UpstreamRequest, 'form'> & { readonly form?: readonly GoldenFormPart[] };

/** The content of `<case>.upstream.json` for a built request (not a refusal). */
export type GoldenUpstreamFile = GoldenRequestView & {
  /** The adapter id this golden is for. */
  readonly adapter: string;
  /** The exact warnings, the normalizer's then the adapter's. */
  readonly warnings: readonly Warning[];
  /** The exact adapter metadata. */
  readonly metadata: Readonly<Record<string, unknown>>;
};

const FILE_ONLY_KEYS = new Set(['adapter', 'warnings', 'metadata', 'error', 'status']);

function readJson(dir: string, file: string): unknown {
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
}

/** A golden file's form part as the contract's FormPart (`base64` -> `data` bytes). */
function toFormPart(part: GoldenFormPart): FormPart {
  if ('value' in part) return { name: part.name, value: part.value };
  return { name: part.name, data: new Uint8Array(Buffer.from(part.base64, 'base64')), filename: part.filename, mimeType: part.mimeType };
}

/**
 * An upstream request in the golden files' shape: the same object, with each form file part's bytes as base64.
 * Comparing two views compares every field exactly (a Buffer and a Uint8Array with the same bytes are equal).
 */
export function goldenRequestView(request: UpstreamRequest): GoldenRequestView {
  const { form: parts, ...rest } = request;
  if (parts === undefined) return rest;
  const form = parts.map((part): GoldenFormPart =>
    'value' in part
      ? { name: part.name, value: part.value }
      : { name: part.name, filename: part.filename, mimeType: part.mimeType, base64: Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength).toString('base64') },
  );
  return { ...rest, form };
}

/** The upstream request a golden file holds: every key of the file but `adapter`, `warnings` and `metadata`. */
function requestOfFile(file: GoldenUpstreamFile): UpstreamRequest {
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file)) {
    if (FILE_ONLY_KEYS.has(key)) continue;
    request[key] = key === 'form' ? (value as GoldenFormPart[]).map(toFormPart) : value;
  }
  return request as unknown as UpstreamRequest;
}

/**
 * The golden cases of one adapter in `dir`: every `<case>.request.json` whose `<case>.upstream.json` names
 * `adapterId` and holds a built request (refusal goldens are left to test/translation/golden.test.ts), sorted by
 * file name. Throws when a request file has no upstream file.
 */
export function goldenCasesFromFiles(dir: string, adapterId: string): GoldenCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.request.json'))
    .sort()
    .map((f) => f.slice(0, -'.request.json'.length))
    .map((name) => ({ name, upstream: readJson(dir, `${name}.upstream.json`) as GoldenUpstreamFile & { error?: unknown } }))
    .filter(({ upstream }) => upstream.adapter === adapterId && upstream.error === undefined)
    .map(({ name, upstream }) => ({
      name,
      request: readJson(dir, `${name}.request.json`) as Record<string, unknown>,
      upstream: requestOfFile(upstream),
      warnings: upstream.warnings.map((w) => ({ code: w.code, param: w.param })),
      metadata: upstream.metadata,
    }));
}
