/**
 * The adapter conformance kit: one call defines the jest tests every upstream adapter must pass.
 * Third-party adapter authors import it from the testing entry point (never loaded by the main entry):
 *
 *   import { runAdapterConformance } from 'image-task-bridge/testing';
 *   runAdapterConformance({ adapter: new MyAdapter(), fixturesDir: join(__dirname, '../../fixtures/my'), ... });
 *
 * What it checks, with no network: identity and capabilities as data (images per call, aspect ratios); golden mappings (platform request ->
 * exact upstream request, JSON body or multipart form); purity and determinism of buildSubmit;
 * that nothing a client sent vanishes (prompt, references, seed, quality are sent or warned about, in the JSON
 * body or as form parts: a data: URI reference as a file part with its exact bytes); that what the capabilities serve, at every declared
 * limit, builds a request the upstream accepts (`upstreamRejects`, written from the upstream's own rules);
 * that the given refusals are refused before any build; submit fixtures mapped to a handle or, for a
 * synchronous answer, to the exact final task (bytes shown as `bytes:<type>:<length>`); poll fixtures mapped to
 * the exact platform task; malformed bodies rejected as upstream_error; the key in an auth header. Retries, timeouts, 429/5xx
 * typing and keeping the key out of URLs, bodies and errors belong to the shared upstream client and are
 * tested there, not per adapter. test/testing/adapter-conformance.test.ts shows every check failing on a
 * deliberately broken adapter.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from '../intent/normalize';
import type { ImageIntent, ImageRef, Warning } from '../intent/intent';
import { MODEL_CATALOG, type Family, type TaskType } from '../platform/catalog';
import { isBridgeError } from '../platform/errors';
import type { TaskStatus } from '../platform/task';
import { defaultResultUrlCheck } from '../security/result-url-policy';
import { applyUpstreamState, newTaskRecord, toPlatformTask } from '../tasks/task-record';
import { isBytesImage, type FamilySupport, type ImageAdapter, type UpstreamRequest, type UpstreamTaskRef, type UpstreamTaskState } from '../adapter-kit/contract';
import { planSubmit } from '../routing/plan';
import { AdapterRegistry } from '../routing/registry';
import { goldenRequestView } from './golden-files';

/** A platform request and the exact upstream request the adapter must build for it. */
export interface GoldenCase {
  /** Test name. */
  readonly name: string;
  /** Platform JSON body, as a client sends it. */
  readonly request: Record<string, unknown>;
  /** The exact upstream request (compared with toStrictEqual; a form's file bytes compared as base64). */
  readonly upstream: UpstreamRequest;
  /** When given: the exact warnings (normalizer's then adapter's), as `{ code, param }`. */
  readonly warnings?: ReadonlyArray<Pick<Warning, 'code' | 'param'>>;
  /** When given: the exact adapter metadata. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An upstream body stored under fixturesDir. */
export interface FixtureCase {
  /** File name below fixturesDir, `<operation>.<outcome>.json`. */
  readonly file: string;
  /** HTTP status the body came with (default 200). */
  readonly httpStatus?: number;
}

/**
 * A submit response and what the adapter must read from it: the handle to poll (all values strings), or
 * `{ final }`, the platform task a synchronous answer maps to. Images answered as bytes appear in `result_urls`
 * as `bytes:<mimeType>:<byteLength>` (the BlobStore gives them real URLs at run time).
 */
export interface SubmitFixtureCase extends FixtureCase {
  /** Expected handle, or the final task. */
  readonly expected: UpstreamTaskRef | { readonly final: ExpectedTask };
}

/** The platform task fields a poll fixture must produce (from a queued task at 0%). */
export interface ExpectedTask {
  /** Platform status. */
  readonly status: TaskStatus;
  /** Progress string, e.g. "0%" or "100%". */
  readonly progress: string;
  /** First image URL or null. */
  readonly result_url: string | null;
  /** All image URLs (only on success). */
  readonly result_urls?: readonly string[];
  /** Failure, or null. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** A poll response and what it must map to: a platform task, or a follow-up request. */
export interface PollFixtureCase extends FixtureCase {
  /** The task it maps to, or `{ follow }` with the exact next request. */
  readonly expected: ExpectedTask | { readonly follow: UpstreamRequest };
}

/** A body the adapter must refuse to read (UpstreamError with code upstream_error). */
export interface MalformedFixtureCase extends FixtureCase {
  /** Which parser reads it. */
  readonly operation: 'submit' | 'poll';
}

/** A platform request whose field the adapter accepts but cannot send, and the warning it must record. */
export interface WarningCase {
  /** Test name. */
  readonly name: string;
  /** Platform JSON body. */
  readonly request: Record<string, unknown>;
  /** The warning buildSubmit must add. */
  readonly warning: Pick<Warning, 'code' | 'param'>;
}

/** A platform request the adapter must refuse (its capabilities say so) without building a request. */
export interface RefusalCase {
  /** Test name. */
  readonly name: string;
  /** Platform JSON body (valid for the platform). */
  readonly request: Record<string, unknown>;
}

/** Everything the kit needs to know about one adapter. */
export interface AdapterConformanceOptions {
  /** The adapter under test (a fresh instance). */
  readonly adapter: ImageAdapter;
  /** Absolute path of the adapter's fixtures folder, `fixtures/<id>/`. */
  readonly fixturesDir: string;
  /** The handle used for polls (as parseSubmit would produce it; any id for a synchronous adapter that never polls). */
  readonly ref: UpstreamTaskRef;
  /** Golden platform -> upstream mappings. */
  readonly goldens: readonly GoldenCase[];
  /** Submit responses and the handles read from them. */
  readonly submitFixtures: readonly SubmitFixtureCase[];
  /**
   * Poll responses and the platform task they map to. A synchronous adapter that never polls gives none: its
   * success and failure are then required among the submit fixtures' final tasks, and no poll is checked.
   */
  readonly pollFixtures: readonly PollFixtureCase[];
  /** Bodies that must be rejected as malformed (at least one). */
  readonly malformedFixtures: readonly MalformedFixtureCase[];
  /** Fields accepted but not sent, with their warnings. */
  readonly warningCases?: readonly WarningCase[];
  /** Platform requests this adapter must refuse before building anything (model_unavailable). */
  readonly refusals?: readonly RefusalCase[];
  /**
   * What the upstream says to a request: why it would reject it, or undefined when it would accept it. Write it
   * from the upstream's own rules (its published schema, or a simulator of it such as the sandbox hub), never
   * from the adapter's capabilities: every intent the capabilities serve, built, must be accepted by it.
   */
  readonly upstreamRejects: (request: UpstreamRequest) => string | undefined;
  /** Normalizer limits (default: the defaults of `npm start`). */
  readonly normalizeOptions?: NormalizeOptions;
}

const SECRET = 'sk-conformance-7f3a9c-SECRET';
const SEED = 1_234_567;
const PROMPT = 'conformance prompt: a lighthouse at dusk';
const ALL_FAMILIES: readonly Family[] = [...new Set(MODEL_CATALOG.map((m) => m.family))];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function readFixture(dir: string, file: string): unknown {
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** True when `needle` occurs as a value anywhere in `haystack` (strings: also as a substring). */
function deepContains(haystack: unknown, needle: string | number): boolean {
  if (haystack === needle) return true;
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack.includes(needle);
  if (typeof haystack === 'object' && haystack !== null) return Object.values(haystack).some((v) => deepContains(v, needle));
  return false;
}

/**
 * `n` reference images as the adapter receives them: http(s) URLs, or, for an adapter that takes bytes
 * (`referenceBytes`: the engine fetches URLs first), distinct small PNG data: URIs.
 */
function refs(n: number, bytes = false): ImageRef[] {
  return Array.from({ length: n }, (_, i) =>
    bytes
      ? { source: 'upload' as const, url: `data:image/png;base64,${Buffer.concat([PNG_SIGNATURE, Buffer.from(`conformance-ref-${i}`)]).toString('base64')}` }
      : { source: 'url' as const, url: `https://images.example.com/conformance/ref-${i}.png` },
  );
}

/** The text values of a form body (empty for a JSON body). */
function formTexts(request: UpstreamRequest): string[] {
  return (request.form ?? []).flatMap((part) => ('value' in part ? [part.value] : []));
}

/** True when the request sends `needle`: in its JSON body, or as (part of) a text field of its form. */
function requestContains(request: UpstreamRequest, needle: string | number): boolean {
  if (deepContains(request.body, needle)) return true;
  return formTexts(request).some((v) => (typeof needle === 'number' ? v === String(needle) : v.includes(needle)));
}

/**
 * True when the request sends this reference: its text (body or form field), or, for a data: URI, its bytes as a
 * form file or its base64 payload as a JSON string of its own (Gemini's `inlineData.data`).
 */
function sendsReference(request: UpstreamRequest, ref: ImageRef): boolean {
  if (requestContains(request, ref.url)) return true;
  const data = /^data:[^;,]+;base64,(.*)$/s.exec(ref.url);
  if (!data) return false;
  if (containsValue(request.body, data[1] as string)) return true;
  const bytes = Buffer.from(data[1] as string, 'base64');
  return (request.form ?? []).some((part) => 'data' in part && Buffer.from(part.data).equals(bytes));
}

/** True when `value` is, exactly, one of the values anywhere in `haystack`. */
function containsValue(haystack: unknown, value: string): boolean {
  if (haystack === value) return true;
  return typeof haystack === 'object' && haystack !== null && Object.values(haystack).some((v) => containsValue(v, value));
}

type IntentOverrides = { -readonly [K in keyof ImageIntent]?: ImageIntent[K] };

/** A valid intent the adapter declares it serves for `family`, with overrides. */
function servedIntent(family: Family, support: FamilySupport, overrides: IntentOverrides = {}, bytes = false): ImageIntent {
  const rows = MODEL_CATALOG.filter((m) => m.family === family);
  const row = rows.find((m) => m.resolution === undefined || (support.resolutions ?? []).includes(m.resolution)) ?? rows[0];
  if (!row) throw new Error(`The catalog has no model of family ${family}.`);
  const taskType = support.taskTypes.includes('text2image') ? 'text2image' : 'image2image';
  const base: ImageIntent = {
    platformModel: row.name,
    family,
    taskType,
    prompt: PROMPT,
    references: taskType === 'image2image' ? refs(1, bytes) : [],
    count: 1,
    format: support.formats[0] ?? 'png',
    geometry: row.geometry === 'size' ? { kind: 'size', width: 1024, height: 1024, tier: '1K' } : { kind: 'aspect', aspectRatio: '1:1', ...(row.resolution ? { resolution: row.resolution } : {}) },
    ...(row.quality ? { quality: 'medium' as const } : {}),
    warnings: [],
    billing: { requestedImages: 1 },
  };
  return { ...base, ...overrides };
}

/**
 * Intents the adapter declares it serves, one at each declared limit: the most images, the most references,
 * every format, every resolution tier, every task type. Built, each must be a request the upstream accepts.
 */
function servedAtLimits(adapter: ImageAdapter): Array<{ why: string; intent: ImageIntent }> {
  const out: Array<{ why: string; intent: ImageIntent }> = [];
  const bytes = adapter.referenceBytes === true;
  for (const family of ALL_FAMILIES) {
    const support = adapter.capabilities[family];
    if (!support) continue;
    for (const taskType of support.taskTypes) {
      const references = taskType === 'image2image' ? refs(support.maxReferences, bytes) : [];
      out.push({ why: `${family} ${taskType}: ${support.maxImages} images (maxImages)`, intent: servedIntent(family, support, { taskType, references: taskType === 'image2image' ? refs(1, bytes) : [], count: support.maxImages }) });
      if (taskType === 'image2image') out.push({ why: `${family} image2image: ${support.maxReferences} references (maxReferences)`, intent: servedIntent(family, support, { taskType, references }) });
      for (const format of support.formats) {
        out.push({ why: `${family} ${taskType}: format ${format}`, intent: servedIntent(family, support, { taskType, references: taskType === 'image2image' ? refs(1, bytes) : [], format }) });
      }
    }
    for (const ratio of support.aspectRatios ?? []) {
      const g = servedIntent(family, support).geometry;
      if (g.kind !== 'aspect') continue;
      out.push({ why: `${family}: aspect ratio ${ratio} (aspectRatios)`, intent: servedIntent(family, support, { geometry: { ...g, aspectRatio: ratio } }, bytes) });
    }
    for (const row of MODEL_CATALOG.filter((m) => m.family === family && m.resolution !== undefined && (support.resolutions ?? []).includes(m.resolution))) {
      out.push({
        why: `${row.name}: resolution ${String(row.resolution)}`,
        intent: servedIntent(family, support, { platformModel: row.name, geometry: { kind: 'aspect', aspectRatio: '1:1', ...(row.resolution ? { resolution: row.resolution } : {}) } }, bytes),
      });
    }
  }
  return out;
}

/** The platform task fields a state produces on a fresh queued task. */
function taskFields(state: UpstreamTaskState, taskType: TaskType): ExpectedTask {
  const intent: ImageIntent = {
    ...servedIntent('nano-banana', { taskTypes: [taskType], formats: ['png'], maxImages: 1, maxReferences: 1 }),
    // As if the client asked for what the upstream returned: at most n results are kept (task-record.ts).
    count: Math.max(1, state.images.length),
    billing: { requestedImages: Math.max(1, state.images.length) },
  };
  const record = newTaskRecord({
    id: 'task_conformanceAAAAAAAAAAAAAAAAAAAAAA',
    owner: 'conformance',
    channelId: 'conformance',
    adapterId: 'conformance',
    upstreamRef: { id: 'conformance' },
    intent,
    built: { warnings: [], metadata: {} },
    now: 0,
  });
  const images = state.images.map((i) => (isBytesImage(i) ? { url: `bytes:${i.mimeType}:${i.data.byteLength}` } : i));
  applyUpstreamState(record, { ...state, images }, 1, [], (url) => (url.startsWith('bytes:') ? undefined : defaultResultUrlCheck(url)));
  const task = toPlatformTask(record);
  return {
    status: task.status,
    progress: task.progress,
    result_url: task.result_url,
    ...(task.metadata.result_urls ? { result_urls: task.metadata.result_urls } : {}),
    error: task.error,
  };
}

function expectUpstreamError(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeDefined();
  expect(isBridgeError(thrown)).toBe(true);
  expect((thrown as { code: string }).code).toBe('upstream_error');
}

/** One conformance check: `kind` names the rule (the same for every fixture or golden it runs on). */
export interface ConformanceCheck {
  /** The rule, e.g. `golden` or `poll-fixture`. */
  readonly kind: ConformanceCheckKind;
  /** The describe block it is listed under. */
  readonly group: string;
  /** The test name. */
  readonly name: string;
  /** Throws (a jest assertion error) when the adapter breaks the rule. */
  readonly run: () => void;
}

/** Every rule the kit checks. */
export const CONFORMANCE_CHECK_KINDS = [
  'kebab-case-id',
  'declared-capabilities',
  'images-per-call',
  'aspect-ratios-known',
  'goldens-present',
  'golden',
  'pure-build',
  'prompt-and-references-sent',
  'seed-not-dropped',
  'quality-not-dropped',
  'served-limits-accepted-upstream',
  'refusal',
  'warning',
  'submit-fixture',
  'poll-fixtures-present',
  'first-poll',
  'poll-fixture',
  'malformed-fixtures-present',
  'malformed-fixture',
  'malformed-poll-body',
  'malformed-submit-body',
  'key-in-auth-header',
  'describe-error-total',
] as const;

/** A rule of the kit. */
export type ConformanceCheckKind = (typeof CONFORMANCE_CHECK_KINDS)[number];

/** The checks of one adapter, as plain functions (runAdapterConformance turns them into jest tests). */
export function adapterConformanceChecks(opts: AdapterConformanceOptions): ConformanceCheck[] {
  const { adapter, fixturesDir } = opts;
  const normalizeOptions = opts.normalizeOptions ?? DEFAULT_NORMALIZE_OPTIONS;
  const registry = new AdapterRegistry([adapter]);
  const served = ALL_FAMILIES.flatMap((family) => {
    const support = adapter.capabilities[family];
    return support ? [{ family, support }] : [];
  });
  const checks: ConformanceCheck[] = [];
  const add = (kind: ConformanceCheckKind, group: string, name: string, run: () => void): void => {
    checks.push({ kind, group, name, run });
  };

  let group = 'identity and capabilities';
  add('kebab-case-id', group, 'has a kebab-case id', () => {
    expect(adapter.id).toMatch(/^[a-z][a-z0-9-]*$/);
  });
  add('declared-capabilities', group, 'declares at least one family, each with task types, formats and positive limits; reference bytes only for a synchronous adapter', () => {
    expect(served.length).toBeGreaterThan(0);
    // The engine fetches references into bytes only for the calls it makes itself (synchronous adapters).
    if (adapter.referenceBytes === true) expect({ referenceBytes: true, synchronous: adapter.synchronous === true }).toStrictEqual({ referenceBytes: true, synchronous: true });
    for (const { support } of served) {
      expect(support.taskTypes.length).toBeGreaterThan(0);
      expect(support.formats.length).toBeGreaterThan(0);
      expect(Number.isInteger(support.maxImages) && support.maxImages >= 1).toBe(true);
      expect(Number.isInteger(support.maxReferences) && support.maxReferences >= 0).toBe(true);
      if (support.taskTypes.includes('image2image')) expect(support.maxReferences).toBeGreaterThanOrEqual(1);
    }
  });
  add('images-per-call', group, 'images per call: a whole number from 1 to maxImages; below maxImages (fan-out) only for a synchronous adapter', () => {
    for (const { family, support } of served) {
      const perCall = support.imagesPerCall ?? support.maxImages;
      expect({ family, ok: Number.isInteger(perCall) && perCall >= 1 && perCall <= support.maxImages }).toStrictEqual({ family, ok: true });
      if (adapter.synchronous !== true) expect({ family, perCall }).toStrictEqual({ family, perCall: support.maxImages });
    }
  });
  add('aspect-ratios-known', group, 'declared aspect ratios are ratios the platform accepts for the family; a minimum prompt length is a positive whole number', () => {
    for (const { family, support } of served) {
      const platform = new Set(MODEL_CATALOG.filter((m) => m.family === family).flatMap((m) => m.aspectRatios));
      for (const ratio of support.aspectRatios ?? []) expect({ family, ratio, known: platform.has(ratio) }).toStrictEqual({ family, ratio, known: true });
      if (support.minPromptLength !== undefined) expect({ family, minPromptLength: Number.isInteger(support.minPromptLength) && support.minPromptLength >= 1 }).toStrictEqual({ family, minPromptLength: true });
    }
  });

  group = 'golden mappings (platform request -> exact upstream request)';
  add('goldens-present', group, 'has at least one golden case', () => {
    expect(opts.goldens.length).toBeGreaterThan(0);
  });
  for (const golden of opts.goldens) {
    add('golden', group, golden.name, () => {
      const plan = planSubmit({ body: golden.request }, registry, normalizeOptions, [adapter]);
      expect(goldenRequestView(plan.built.request)).toStrictEqual(goldenRequestView(golden.upstream));
      if (golden.warnings) {
        expect([...plan.intent.warnings, ...plan.built.warnings].map((w) => ({ code: w.code, param: w.param }))).toStrictEqual(golden.warnings);
      }
      if (golden.metadata) expect(plan.built.metadata).toStrictEqual(golden.metadata);
    });
  }

  group = 'buildSubmit is pure and loses nothing';
  const bytes = adapter.referenceBytes === true;
  for (const { family, support } of served) {
    for (const taskType of support.taskTypes) {
      const intent = servedIntent(family, support, { taskType, references: taskType === 'image2image' ? refs(Math.min(2, support.maxReferences), bytes) : [] });
      add('pure-build', group, `${family} ${taskType}: same output twice, intent untouched, JSON-safe body`, () => {
        const frozen = deepFreeze(structuredClone(intent));
        const first = adapter.buildSubmit(frozen);
        const second = adapter.buildSubmit(frozen);
        expect(second).toStrictEqual(first);
        expect(frozen).toStrictEqual(intent);
        expect(JSON.parse(JSON.stringify(first.request.body ?? null))).toStrictEqual(first.request.body ?? null);
        expect(['POST', 'PUT']).toContain(first.request.method);
      });
      add('prompt-and-references-sent', group, `${family} ${taskType}: prompt and every reference are sent`, () => {
        const { request } = adapter.buildSubmit(intent);
        expect(requestContains(request, PROMPT)).toBe(true);
        for (const [i, ref] of intent.references.entries()) expect({ reference: i, sent: sendsReference(request, ref) }).toStrictEqual({ reference: i, sent: true });
      });
      add('seed-not-dropped', group, `${family} ${taskType}: a seed is sent or warned about, never dropped silently`, () => {
        const built = adapter.buildSubmit(servedIntent(family, support, { taskType, references: intent.references, seed: SEED }));
        const sent = requestContains(built.request, SEED);
        const warned = built.warnings.some((w) => w.param === 'seed');
        expect(sent !== warned).toBe(true);
      });
      if (intent.quality !== undefined) {
        add('quality-not-dropped', group, `${family} ${taskType}: quality is sent or warned about`, () => {
          const built = adapter.buildSubmit(servedIntent(family, support, { taskType, references: intent.references, quality: 'low' }));
          expect(requestContains(built.request, 'low') || built.warnings.some((w) => w.param === 'quality')).toBe(true);
        });
      }
    }
  }

  group = 'capabilities tell the truth: what the adapter serves, the upstream accepts';
  for (const { why, intent } of servedAtLimits(adapter)) {
    add('served-limits-accepted-upstream', group, `the upstream accepts ${why}`, () => {
      const { request } = adapter.buildSubmit(intent);
      expect(opts.upstreamRejects(request) ?? 'accepted').toBe('accepted');
    });
  }
  for (const refusal of opts.refusals ?? []) {
    add('refusal', group, `refuses ${refusal.name} before building a request`, () => {
      const build = jest.spyOn(adapter, 'buildSubmit');
      try {
        expect(() => planSubmit({ body: refusal.request }, registry, normalizeOptions, [adapter])).toThrow(expect.objectContaining({ code: 'model_unavailable' }));
        expect(build).not.toHaveBeenCalled();
      } finally {
        build.mockRestore();
      }
    });
  }

  group = 'unsupported fields produce warnings';
  for (const c of opts.warningCases ?? []) {
    add('warning', group, c.name, () => {
      const plan = planSubmit({ body: c.request }, registry, normalizeOptions, [adapter]);
      expect(plan.built.warnings).toContainEqual(expect.objectContaining({ code: c.warning.code, param: c.warning.param }));
      for (const w of plan.built.warnings) expect(w.message.length).toBeGreaterThan(0);
    });
  }

  group = 'submit responses';
  for (const f of opts.submitFixtures) {
    const expected = f.expected;
    const final = 'final' in expected && typeof expected.final === 'object' ? (expected.final as ExpectedTask) : undefined;
    add('submit-fixture', group, `${f.file} -> ${final ? `final ${final.status}` : 'upstream handle'}`, () => {
      const outcome = adapter.parseSubmit({ status: f.httpStatus ?? 200, body: readFixture(fixturesDir, f.file) });
      if (final) {
        if (outcome.kind !== 'final') throw new Error(`expected a final state, got a handle ${JSON.stringify(outcome.ref)}`);
        if (outcome.state.status === 'succeeded') expect(outcome.state.images.length).toBeGreaterThan(0);
        expect(taskFields(outcome.state, 'text2image')).toStrictEqual(final);
        return;
      }
      expect(outcome).toStrictEqual({ kind: 'handle', ref: expected });
      if (outcome.kind === 'handle') for (const v of Object.values(outcome.ref)) expect(typeof v).toBe('string');
    });
  }

  // A synchronous adapter that always answers the result itself (Gemini, OpenAI) has no job to poll: given no
  // poll fixtures, its success and failure come from its submit fixtures' final tasks, and no poll is checked.
  const polls = adapter.synchronous !== true || opts.pollFixtures.length > 0;
  group = 'poll responses -> platform task';
  add('poll-fixtures-present', group, polls ? 'has fixtures for success and failure' : 'has final submit fixtures for success and failure (no polls)', () => {
    const statuses = polls
      ? opts.pollFixtures.flatMap((f) => ('follow' in f.expected ? [] : [f.expected.status]))
      : opts.submitFixtures.flatMap((f) => ('final' in f.expected && typeof f.expected.final === 'object' ? [(f.expected.final as ExpectedTask).status] : []));
    expect(statuses).toContain('succeeded');
    expect(statuses).toContain('failed');
  });
  if (polls) {
    add('first-poll', group, 'builds its first poll request from the handle alone', () => {
      const request = adapter.buildPoll(opts.ref);
      expect(request.method).toBe('GET');
      expect(request.path.length).toBeGreaterThan(0);
    });
  }
  for (const f of opts.pollFixtures) {
    add('poll-fixture', group, `${f.file}${f.httpStatus ? ` (HTTP ${f.httpStatus})` : ''} -> ${'follow' in f.expected ? 'follow-up request' : f.expected.status}`, () => {
      const outcome = adapter.parsePoll({ status: f.httpStatus ?? 200, body: readFixture(fixturesDir, f.file) }, opts.ref);
      if ('follow' in f.expected) {
        expect(outcome).toStrictEqual({ kind: 'follow', request: f.expected.follow });
        return;
      }
      if (outcome.kind !== 'state') throw new Error(`expected a state, got a follow-up request to ${outcome.request.path}`);
      const { state } = outcome;
      if (state.progress !== undefined) expect(state.progress >= 0 && state.progress <= 100).toBe(true);
      if (state.status === 'succeeded') expect(state.images.length).toBeGreaterThan(0);
      if (state.status === 'failed') expect(state.error?.message).toEqual(expect.any(String));
      expect(taskFields(state, 'text2image')).toStrictEqual(f.expected);
    });
  }

  group = 'malformed upstream bodies are upstream_error, never a guess';
  add('malformed-fixtures-present', group, 'has at least one malformed fixture', () => {
    expect(opts.malformedFixtures.length).toBeGreaterThan(0);
  });
  for (const f of opts.malformedFixtures) {
    add('malformed-fixture', group, `${f.operation}: ${f.file}`, () => {
      const response = { status: f.httpStatus ?? 200, body: readFixture(fixturesDir, f.file) };
      expectUpstreamError(() => (f.operation === 'submit' ? adapter.parseSubmit(response) : adapter.parsePoll(response, opts.ref)));
    });
  }
  for (const body of polls ? [null, 'not json', 42, [], {}] : []) {
    add('malformed-poll-body', group, `poll body ${JSON.stringify(body)}`, () => {
      expectUpstreamError(() => adapter.parsePoll({ status: 200, body }, opts.ref));
    });
  }
  // Every adapter: {}; one with nothing to poll reads its results from the submit, so every unreadable body.
  for (const body of polls ? [{}] : [null, 'not json', 42, [], {}]) {
    add('malformed-submit-body', group, `submit body ${JSON.stringify(body)}`, () => {
      expectUpstreamError(() => adapter.parseSubmit({ status: 200, body }));
    });
  }

  // That the key travels in these headers only (never in a URL, a body or an error) is the shared client's
  // job, tested where the key is used: test/upstream/http-upstream-client.test.ts.
  group = 'secrets';
  add('key-in-auth-header', group, 'authenticates with the key in a header value, never in a header name', () => {
    const entries = Object.entries(adapter.authHeaders(SECRET));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.some(([, v]) => v.includes(SECRET) || v.includes(Buffer.from(SECRET).toString('base64')))).toBe(true);
    for (const [name] of entries) expect(name).not.toContain(SECRET);
  });
  const describeError = adapter.describeError?.bind(adapter);
  if (describeError) {
    add('describe-error-total', group, 'describeError reads any body without throwing', () => {
      for (const body of [undefined, null, 'text', 42, [], {}, { detail: [] }, { error: null }]) {
        const text = describeError(body);
        expect(text === undefined || typeof text === 'string').toBe(true);
      }
    });
  }
  return checks;
}

/** Defines the conformance tests of one adapter (call at the top level of a jest test file). */
export function runAdapterConformance(opts: AdapterConformanceOptions): void {
  const checks = adapterConformanceChecks(opts);
  describe(`adapter conformance: ${opts.adapter.id}`, () => {
    for (const groupName of [...new Set(checks.map((c) => c.group))]) {
      describe(groupName, () => {
        for (const check of checks.filter((c) => c.group === groupName)) it(check.name, check.run);
      });
    }
  });
}
