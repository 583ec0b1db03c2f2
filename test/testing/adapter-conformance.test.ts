/**
 * Every check of the adapter conformance kit (src/testing/adapter-conformance.ts) fails on an adapter broken
 * on purpose in the one way the check is about, and passes on the real hub adapter: none of them is a check
 * that cannot fail.
 */
import { HubAdapter } from '../../adapters/hub/hub-adapter';
import type { AdapterCapabilities, FormPart, ImageAdapter } from '../../src/adapter-kit/contract';
import { adapterConformanceChecks, CONFORMANCE_CHECK_KINDS, type AdapterConformanceOptions, type ConformanceCheckKind } from '../../src/testing/adapter-conformance';
import { hubConformanceOptions } from '../support/hub-conformance';

const hub: ImageAdapter = new HubAdapter();

/** The hub adapter with some members replaced. */
function broken(overrides: Partial<ImageAdapter>): ImageAdapter {
  return {
    id: hub.id,
    capabilities: hub.capabilities,
    authHeaders: (key) => hub.authHeaders(key),
    buildSubmit: (intent) => hub.buildSubmit(intent),
    parseSubmit: (response) => hub.parseSubmit(response),
    buildPoll: (ref) => hub.buildPoll(ref),
    parsePoll: (response, ref) => hub.parsePoll(response, ref),
    describeError: (body) => hub.describeError?.(body),
    ...overrides,
  };
}

/** The hub's build with `edit` applied to a copy of the body's input (warnings and metadata kept). */
function editInput(edit: (input: Record<string, unknown>, model: string) => void): Pick<ImageAdapter, 'buildSubmit'> {
  return {
    buildSubmit: (intent) => {
      const built = hub.buildSubmit(intent);
      const body = structuredClone(built.request.body) as { model: string; input: Record<string, unknown> };
      edit(body.input, body.model);
      return { ...built, request: { ...built.request, body } };
    },
  };
}

function capabilities(edit: (c: Record<string, Record<string, unknown>>) => void): AdapterCapabilities {
  const copy = structuredClone(hub.capabilities) as unknown as Record<string, Record<string, unknown>>;
  edit(copy);
  return copy as unknown as AdapterCapabilities;
}

let calls = 0;
const CASES: ReadonlyArray<[ConformanceCheckKind, string, (base: AdapterConformanceOptions) => AdapterConformanceOptions]> = [
  ['kebab-case-id', 'an id with capitals and an underscore', (o) => ({ ...o, adapter: broken({ id: 'Hub_Adapter' }) })],
  ['declared-capabilities', 'a family declared with maxImages 0', (o) => ({ ...o, adapter: broken({ capabilities: capabilities((c) => void ((c['nano-banana'] as Record<string, unknown>).maxImages = 0)) }) })],
  [
    'images-per-call',
    'a queue-and-poll adapter that declares 2 images per call below maxImages 4 (fan-out is for synchronous adapters)',
    (o) => ({ ...o, adapter: broken({ capabilities: capabilities((c) => void ((c['nano-banana'] as Record<string, unknown>).imagesPerCall = 2)) }) }),
  ],
  ['aspect-ratios-known', 'a family declaring the ratio 7:3, which the platform does not have', (o) => ({ ...o, adapter: broken({ capabilities: capabilities((c) => void ((c['nano-banana'] as Record<string, unknown>).aspectRatios = ['1:1', '7:3'])) }) })],
  ['goldens-present', 'no golden case', (o) => ({ ...o, goldens: [] })],
  ['golden', 'a build to the wrong path', (o) => ({ ...o, adapter: broken({ buildSubmit: (i) => ({ ...hub.buildSubmit(i), request: { ...hub.buildSubmit(i).request, path: '/hub/v1/task' } }) }) })],
  ['pure-build', 'a build that numbers its requests', (o) => ({ ...o, adapter: broken(editInput((input) => void (input.request_number = ++calls))) })],
  ['prompt-and-references-sent', 'a build that drops all but the first reference', (o) => ({ ...o, adapter: broken(editInput((input) => void (Array.isArray(input.image_urls) && input.image_urls.splice(1)))) })],
  ['seed-not-dropped', 'a build that drops the seed without a warning', (o) => ({ ...o, adapter: broken(editInput((input) => void delete input.seed)) })],
  ['quality-not-dropped', 'a build that drops the quality without a warning', (o) => ({ ...o, adapter: broken(editInput((input) => void delete input.quality)) })],
  [
    'served-limits-accepted-upstream',
    'gpt-image-2 declared with 9 images per call (the hub takes 8)',
    (o) => ({ ...o, adapter: broken({ capabilities: capabilities((c) => void ((c['gpt-image-2'] as Record<string, unknown>).maxImages = 9)) }) }),
  ],
  [
    'refusal',
    'nano-banana-pro declared with an 8K tier',
    (o) => ({ ...o, adapter: broken({ capabilities: capabilities((c) => void ((c['nano-banana-pro'] as Record<string, unknown>).resolutions = ['1K', '2K', '4K', '8K'])) }) }),
  ],
  ['warning', 'a build that loses its warnings', (o) => ({ ...o, adapter: broken({ buildSubmit: (i) => ({ ...hub.buildSubmit(i), warnings: [] }) }) })],
  [
    'submit-fixture',
    'a submit read with the wrong handle',
    (o) => ({
      ...o,
      adapter: broken({
        parseSubmit: (r) => {
          const outcome = hub.parseSubmit(r);
          return outcome.kind === 'handle' ? { kind: 'handle', ref: { id: `${outcome.ref.id}-x` } } : outcome;
        },
      }),
    }),
  ],
  ['poll-fixtures-present', 'no failed poll fixture', (o) => ({ ...o, pollFixtures: o.pollFixtures.filter((f) => 'follow' in f.expected || f.expected.status !== 'failed') })],
  [
    'poll-fixtures-present',
    'a synchronous adapter with no polls whose final submit fixtures have no failure',
    (o) => ({ ...o, adapter: { ...broken({}), synchronous: true }, pollFixtures: [], submitFixtures: [{ file: 'poll.succeeded.json', expected: { final: { status: 'succeeded', progress: '100%', result_url: null, error: null } } }] }),
  ],
  ['first-poll', 'a poll sent as POST', (o) => ({ ...o, adapter: broken({ buildPoll: (ref) => ({ ...hub.buildPoll(ref), method: 'POST' }) }) })],
  ['poll-fixture', 'every poll read as processing', (o) => ({ ...o, adapter: broken({ parsePoll: () => ({ kind: 'state', state: { status: 'processing', images: [] } }) }) })],
  ['malformed-fixtures-present', 'no malformed fixture', (o) => ({ ...o, malformedFixtures: [] })],
  ['malformed-fixture', 'a poll that guesses queued for a body it cannot read', (o) => ({ ...o, adapter: broken({ parsePoll: (r, ref) => guess(() => hub.parsePoll(r, ref)) }) })],
  ['malformed-poll-body', 'a poll that guesses queued for a body it cannot read', (o) => ({ ...o, adapter: broken({ parsePoll: (r, ref) => guess(() => hub.parsePoll(r, ref)) }) })],
  [
    'malformed-submit-body',
    'a submit that guesses an id for a body without one',
    (o) => ({ ...o, adapter: broken({ parseSubmit: (r) => ({ kind: 'handle', ref: { id: String((r.body as { task_id?: unknown } | undefined)?.task_id ?? 'unknown') } }) }) }),
  ],
  ['key-in-auth-header', 'no auth header', (o) => ({ ...o, adapter: broken({ authHeaders: () => ({}) }) })],
  [
    'describe-error-total',
    'describeError that throws on a body it does not expect',
    (o) => ({
      ...o,
      adapter: broken({
        describeError: (body) => {
          if (typeof body !== 'object' || body === null) throw new TypeError('not an object');
          return hub.describeError?.(body);
        },
      }),
    }),
  ],
];

function guess(read: () => ReturnType<ImageAdapter['parsePoll']>): ReturnType<ImageAdapter['parsePoll']> {
  try {
    return read();
  } catch {
    return { kind: 'state', state: { status: 'queued', images: [] } };
  }
}

/** The kinds of the checks that fail for these options, and the name of the first failing one of each. */
function failingKinds(options: AdapterConformanceOptions): Map<ConformanceCheckKind, string> {
  const failing = new Map<ConformanceCheckKind, string>();
  for (const check of adapterConformanceChecks(options)) {
    try {
      check.run();
    } catch {
      if (!failing.has(check.kind)) failing.set(check.kind, check.name);
    }
  }
  return failing;
}

describe('the adapter conformance kit', () => {
  it('passes every check on the hub adapter as it is', () => {
    const checks = adapterConformanceChecks(hubConformanceOptions());
    expect([...new Set(checks.map((c) => c.kind))].sort()).toStrictEqual([...CONFORMANCE_CHECK_KINDS].sort());
    expect([...failingKinds(hubConformanceOptions())]).toStrictEqual([]);
  });

  it('has a broken adapter below for every kind of check', () => {
    expect([...new Set(CASES.map(([kind]) => kind))].sort()).toStrictEqual([...CONFORMANCE_CHECK_KINDS].sort());
  });

  it.each(CASES)('%s fails on %s', (kind, _what, breakIt) => {
    const failing = failingKinds(breakIt(hubConformanceOptions()));
    expect(failing.has(kind)).toBe(true);
  });
});

describe('the kit reads multipart forms too (prompt and references sent as form parts)', () => {
  /**
   * The hub as a form-based upstream (like OpenAI's image edits): its input as text fields, each reference as a
   * file part. It declares reference bytes, so the kit hands it data: URI references, as the engine would.
   */
  function formHub(drop: 'nothing' | 'last-file' | 'prompt'): ImageAdapter {
    return broken({
      synchronous: true,
      referenceBytes: true,
      buildSubmit: (intent) => {
        const built = hub.buildSubmit(intent);
        const input = (built.request.body as { input: Record<string, unknown> }).input;
        const texts: FormPart[] = Object.entries(input)
          .filter(([name]) => name !== 'image_urls' && !(drop === 'prompt' && name === 'prompt'))
          .map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) }));
        const files: FormPart[] = intent.references.map((ref, i) => {
          const [, mimeType = '', data = ''] = /^data:([^;]+);base64,(.*)$/s.exec(ref.url) ?? [];
          return { name: 'image[]', data: Buffer.from(data, 'base64'), filename: `ref-${i}.png`, mimeType };
        });
        if (drop === 'last-file') files.pop();
        return { ...built, request: { method: 'POST', path: '/hub/v1/tasks', form: [...texts, ...files] } };
      },
    });
  }

  it('passes when the prompt is a text field and every reference a file part with its exact bytes', () => {
    expect(failingKinds({ ...hubConformanceOptions(), adapter: formHub('nothing') }).has('prompt-and-references-sent')).toBe(false);
  });

  it.each([
    ['a form that drops the last reference file', 'last-file'],
    ['a form without the prompt field', 'prompt'],
  ] as const)('fails on %s', (_what, drop) => {
    expect(failingKinds({ ...hubConformanceOptions(), adapter: formHub(drop) }).has('prompt-and-references-sent')).toBe(true);
  });

  it('a queue-and-poll adapter may not ask for reference bytes (the engine fetches them only for the calls it makes)', () => {
    expect(failingKinds({ ...hubConformanceOptions(), adapter: broken({ referenceBytes: true }) }).has('declared-capabilities')).toBe(true);
  });
});

describe('a synchronous adapter with nothing to poll', () => {
  const sync = (): AdapterConformanceOptions => ({ ...hubConformanceOptions(), adapter: broken({ synchronous: true }), pollFixtures: [] });

  it('needs final submit fixtures for success and failure instead of poll fixtures (a handle alone fails)', () => {
    expect(failingKinds(sync()).has('poll-fixtures-present')).toBe(true);
  });

  it('has every unreadable submit body checked, and no poll check', () => {
    const checks = adapterConformanceChecks(sync());
    expect(checks.filter((c) => c.kind === 'malformed-submit-body').map((c) => c.name)).toStrictEqual([
      'submit body null',
      'submit body "not json"',
      'submit body 42',
      'submit body []',
      'submit body {}',
    ]);
    expect(checks.filter((c) => c.kind === 'first-poll' || c.kind === 'malformed-poll-body')).toStrictEqual([]);
  });
});
