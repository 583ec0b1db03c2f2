/**
 * Hub task fixtures -> HubAdapter.parsePoll -> applyUpstreamState on a fresh TaskRecord -> toPlatformTask,
 * compared with the exact platform task (design sections 5 and 9).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { ImageAdapter, UpstreamTaskState } from '../../src/adapter-kit/contract';
import { AdapterRegistry } from '../../src/routing/registry';
import { createTranslationContainer } from '../../src/di/container';
import { isBridgeError } from '../../src/platform/errors';
import { platformTaskSchema, type PlatformTask } from '../../src/platform/task';
import { applyUpstreamState, toPlatformTask, type TaskRecord } from '../../src/tasks/task-record';
import { sampleRecord } from '../support/task-records';

const DIR = join(__dirname, '../../fixtures/hub');
const CDN = 'https://cdn.hub.example/outputs/2026/11/25/';
const TASK_ID = 'task_Q2xhdWRlVGVzdFRhc2tJZDAx';
const CREATED = 1_764_000_000_000;

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
}

function freshRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return sampleRecord({
    id: TASK_ID,
    owner: 'owner-1',
    channelId: 'hub-main',
    upstreamRef: { id: 'hub_tsk_7c1f2e9a40b84d1b' },
    billing: { requestedImages: 1 },
    warnings: [],
    metadata: {},
    createdAt: CREATED,
    updatedAt: CREATED,
    ...overrides,
  });
}

let container: DependencyContainer;
let hub: ImageAdapter;

beforeEach(() => {
  container = createTranslationContainer();
  hub = container.resolve(AdapterRegistry).get('hub');
});

afterEach(async () => {
  await container.dispose();
});

function stateOf(body: unknown): UpstreamTaskState {
  const outcome = hub.parsePoll({ status: 200, body }, { id: 'hub_tsk_7c1f2e9a40b84d1b' });
  if (outcome.kind !== 'state') throw new Error('the hub never asks for a follow-up request');
  return outcome.state;
}

/** Parses a hub poll body, applies it to the record and returns the platform task. */
function poll(record: TaskRecord, body: unknown, now = CREATED + 1000): PlatformTask {
  applyUpstreamState(record, stateOf(body), now);
  const task = toPlatformTask(record);
  expect(platformTaskSchema.safeParse(task).success).toBe(true);
  return task;
}

describe('hub submit response', () => {
  test('submit.accepted gives the upstream task handle', () => {
    expect(hub.parseSubmit({ status: 201, body: fixture('submit.accepted') })).toStrictEqual({ kind: 'handle', ref: { id: 'hub_tsk_7c1f2e9a40b84d1b' } });
  });

  test('a submit response without task_id is an upstream_error', () => {
    let caught: unknown;
    try {
      hub.parseSubmit({ status: 200, body: { status: 'queued' } });
    } catch (err) {
      caught = err;
    }
    expect(isBridgeError(caught) && caught.toEnvelope()).toStrictEqual({
      code: 'upstream_error',
      message: "The hub's submit response is not readable: task_id: Invalid input: expected string, received undefined.",
      data: null,
    });
  });
});

describe('hub poll fixtures -> platform task', () => {
  test('poll.queued -> queued 0%', () => {
    const record = freshRecord();
    expect(poll(record, fixture('poll.queued'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'queued',
      progress: '0%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: null,
    });
    expect(record.lastPolledAt).toBe(CREATED + 1000);
  });

  test('poll.running -> processing with the hub progress', () => {
    expect(poll(freshRecord(), fixture('poll.running'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'processing',
      progress: '60%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: null,
    });
  });

  test('poll.succeeded -> succeeded 100% with result_url and result_urls', () => {
    expect(poll(freshRecord({ status: 'processing', progress: 60 }), fixture('poll.succeeded'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'succeeded',
      progress: '100%',
      result_url: `${CDN}7c1f2e9a-0.png`,
      metadata: { task_type: 'text2image', result_count: 1, result_urls: [`${CDN}7c1f2e9a-0.png`] },
      error: null,
    });
  });

  test('poll.succeeded-multiple -> every image in order, the first as result_url', () => {
    const record = freshRecord({ model: 'gpt-image-2', family: 'gpt-image-2', billing: { tier: '1K', quality: 'medium', requestedImages: 3 } });
    const urls = [0, 1, 2].map((i) => `${CDN}51aa03d6-${i}.webp`);
    expect(poll(record, fixture('poll.succeeded-multiple'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'succeeded',
      progress: '100%',
      result_url: urls[0],
      metadata: { task_type: 'text2image', result_count: 3, result_urls: urls },
      error: null,
    });
  });

  test('poll.failed -> failed with the hub error code and message, no result', () => {
    expect(poll(freshRecord({ status: 'processing', progress: 30 }), fixture('poll.failed'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'failed',
      progress: '100%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: { code: 'content_policy_violation', message: 'The request was rejected by the safety filter.' },
    });
  });

  test('poll.ready-no-images -> failed no_output (ready without an image is not a success)', () => {
    expect(poll(freshRecord(), fixture('poll.ready-no-images'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'failed',
      progress: '100%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: { code: 'no_output', message: 'The upstream finished without returning any image.' },
    });
  });

  test('poll.unknown-extra-fields -> extra fields are ignored', () => {
    const record = freshRecord({ taskType: 'image2image', model: 'NanoBananaPro-2K', family: 'nano-banana-pro' });
    expect(poll(record, fixture('poll.unknown-extra-fields'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'succeeded',
      progress: '100%',
      result_url: `${CDN}2b6d8f1e-0.jpeg`,
      metadata: { task_type: 'image2image', result_count: 1, result_urls: [`${CDN}2b6d8f1e-0.jpeg`] },
      error: null,
    });
  });

  test('poll.malformed -> upstream_error (502) that says what is unreadable, record untouched', () => {
    const record = freshRecord();
    const before = structuredClone(record);
    let caught: unknown;
    try {
      poll(record, fixture('poll.malformed'));
    } catch (err) {
      caught = err;
    }
    if (!isBridgeError(caught)) throw new Error(`expected a BridgeError, got ${String(caught)}`);
    expect(caught.httpStatus).toBe(502);
    expect(caught.toEnvelope()).toStrictEqual({
      code: 'upstream_error',
      message: "The hub's task response is not readable: status: Invalid input: expected string, received undefined.",
      data: null,
    });
    expect((caught as unknown as { kind: string }).kind).toBe('malformed');
    expect(record).toStrictEqual(before);
  });

  test.each([
    ['a string', 'Internal Server Error'],
    ['null', null],
    ['an empty object', {}],
    ['ready as a string', { status: 'succeeded', ready: 'true' }],
    ['an image without url', { status: 'succeeded', ready: true, output: { images: [{ content_type: 'image/png' }] } }],
    ['progress as a string', { status: 'running', ready: false, progress: '60' }],
  ])('a poll body that is %s is an upstream_error', (_label, body) => {
    let caught: unknown;
    try {
      stateOf(body);
    } catch (err) {
      caught = err;
    }
    expect(isBridgeError(caught) && caught.code).toBe('upstream_error');
    expect(isBridgeError(caught) && caught.message).toMatch(/^The hub's task response is not readable: .+\.$/);
  });
});

describe('status mapping edge cases (design section 9)', () => {
  test('an unknown status that is not ready counts as processing', () => {
    expect(poll(freshRecord(), { status: 'in_progress', ready: false }).status).toBe('processing');
  });

  test('status succeeded without ready is still processing: ready is the only authority', () => {
    const task = poll(freshRecord(), { status: 'succeeded', ready: false, progress: 95, output: { images: [{ url: `${CDN}early.png` }] } });
    expect(task).toStrictEqual({
      task_id: TASK_ID,
      status: 'processing',
      progress: '95%',
      result_url: null,
      metadata: { task_type: 'text2image', result_count: 0 },
      error: null,
    });
  });

  test('ready with a failed status and no error body explains itself', () => {
    expect(poll(freshRecord(), { status: 'failed', ready: true }).error).toStrictEqual({
      code: 'generation_failed',
      message: 'The upstream finished with status "failed" and gave no reason.',
    });
  });

  test('a processing task never goes back to queued', () => {
    const record = freshRecord();
    poll(record, fixture('poll.running'));
    expect(poll(record, fixture('poll.queued'))).toMatchObject({ status: 'processing', progress: '60%' });
  });
});

describe('progress', () => {
  test('never decreases: running 60 then running 40 is still 60%', () => {
    const record = freshRecord();
    expect(poll(record, { status: 'running', ready: false, progress: 60 }).progress).toBe('60%');
    expect(poll(record, { status: 'running', ready: false, progress: 40 }).progress).toBe('60%');
    expect(poll(record, { status: 'running', ready: false }).progress).toBe('60%');
    expect(poll(record, { status: 'running', ready: false, progress: 75 }).progress).toBe('75%');
  });

  test('a non-terminal task never shows 100%, even when the hub says 100', () => {
    const record = freshRecord();
    const task = poll(record, { status: 'running', ready: false, progress: 100 });
    expect(task.status).toBe('processing');
    expect(task.progress).toBe('99%');
  });

  test('an out-of-range hub progress is clamped, not fatal (lenient upstream schema)', () => {
    const record = freshRecord();
    expect(stateOf({ status: 'running', ready: false, progress: 250 })).toStrictEqual({ status: 'processing', images: [], progress: 100 });
    expect(poll(record, { status: 'running', ready: false, progress: 250 }).progress).toBe('99%');
    expect(stateOf({ status: 'queued', ready: false, progress: -5 })).toStrictEqual({ status: 'queued', images: [], progress: 0 });
  });

  test('a terminal task is 100% and further polls change nothing', () => {
    const record = freshRecord();
    expect(applyUpstreamState(record, stateOf(fixture('poll.succeeded')), CREATED + 1000)).toBe(true);
    const done = toPlatformTask(record);
    expect(applyUpstreamState(record, stateOf(fixture('poll.failed')), CREATED + 2000)).toBe(false);
    expect(applyUpstreamState(record, stateOf(fixture('poll.running')), CREATED + 3000)).toBe(false);
    expect(toPlatformTask(record)).toStrictEqual(done);
    expect(record.updatedAt).toBe(CREATED + 1000);
  });
});

describe('upstream failure text is cleaned before it reaches the platform task', () => {
  test('the channel key and credential-shaped strings are redacted from a failed poll', () => {
    const record = freshRecord();
    applyUpstreamState(
      record,
      stateOf({
        status: 'failed',
        ready: true,
        error: { code: 'bad_request', message: 'Request by hubkey-7f3a9c2e1b failed: header Authorization: Bearer abcdef1234567890 and sk-proj-0123456789abcdef are not valid.' },
      }),
      CREATED + 1000,
      ['hubkey-7f3a9c2e1b'],
    );
    expect(toPlatformTask(record).error).toStrictEqual({
      code: 'bad_request',
      message: 'Request by [redacted] failed: header Authorization: Bearer [redacted] and [redacted] are not valid.',
    });
  });

  test('a huge upstream message is cut to 1000 characters', () => {
    const record = freshRecord();
    applyUpstreamState(record, stateOf({ status: 'failed', ready: true, error: { message: 'x'.repeat(50_000) } }), CREATED + 1000);
    expect(toPlatformTask(record).error).toStrictEqual({ code: 'generation_failed', message: 'x'.repeat(1000) });
  });
});

describe('warnings and adapter metadata reach the platform task', () => {
  test('a snapped gpt-image-2 size shows requested/actual size and the warning', () => {
    const warning = { code: 'size_adjusted' as const, param: 'size', message: 'The upstream needs edges that are multiples of 16; size 1920x1080 was generated as 1920x1088.' };
    const record = freshRecord({
      model: 'gpt-image-2',
      family: 'gpt-image-2',
      warnings: [warning],
      metadata: { requested_size: '1920x1080', actual_size: '1920x1088' },
    });
    expect(poll(record, fixture('poll.succeeded'))).toStrictEqual({
      task_id: TASK_ID,
      status: 'succeeded',
      progress: '100%',
      result_url: `${CDN}7c1f2e9a-0.png`,
      metadata: {
        task_type: 'text2image',
        result_count: 1,
        requested_size: '1920x1080',
        actual_size: '1920x1088',
        result_urls: [`${CDN}7c1f2e9a-0.png`],
        warnings: [warning],
      },
      error: null,
    });
  });
});
