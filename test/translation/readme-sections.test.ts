/**
 * The mapping section (docs/mapping.md) and the contributors' errors section (docs/api.md, "Where each error
 * comes from") stay in step with the code: every error code with its HTTP status, every platform model, every
 * gpt-image-2 size, every warning code the translation can raise and every assumption an adapter declares.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAL_ASSUMPTIONS } from '../../adapters/fal/fal-models';
import { GEMINI_ASSUMPTIONS } from '../../adapters/gemini/gemini-models';
import { HUB_ASSUMPTIONS } from '../../adapters/hub/hub-models';
import { OPENAI_ASSUMPTIONS } from '../../adapters/openai/openai-models';
import { REPLICATE_ASSUMPTIONS } from '../../adapters/replicate/replicate-models';
import { MODEL_NAMES } from '../../src/platform/catalog';
import { ERROR_STATUS } from '../../src/platform/errors';
import { WARNING_CODES } from '../../src/platform/warnings';
import { GPT_IMAGE_2_SIZES } from '../../src/platform/gpt-image-2-sizes';

/** Where each section lives since the README became the front door (docs by audience). */
const HOMES = { errors: 'docs/api.md', mapping: 'docs/mapping.md' } as const;

function section(name: keyof typeof HOMES): string {
  const doc = readFileSync(join(__dirname, '../..', HOMES[name]), 'utf8');
  const start = doc.indexOf(`<!-- section: ${name} -->`);
  const end = doc.indexOf('<!-- section: ', start + 1);
  if (start < 0) throw new Error(`${HOMES[name]} has no section ${name}`);
  return doc.slice(start, end < 0 ? undefined : end);
}

test('every error code is documented with its HTTP status', () => {
  const errors = section('errors');
  const missing = Object.entries(ERROR_STATUS).filter(([code, status]) => !errors.includes(`| \`${code}\` | ${status} |`));
  expect(missing).toStrictEqual([]);
});

test('every platform model and every gpt-image-2 size appears in the mapping section', () => {
  const mapping = section('mapping');
  const models = MODEL_NAMES.filter((m) => !mapping.includes(m.replace(/-(0\.5K|1K|2K|4K)$/, '')));
  expect(models).toStrictEqual([]);
  for (const tier of ['0.5K', '1K', '2K', '4K', '8K']) expect(mapping).toContain(tier);
  const sizes = GPT_IMAGE_2_SIZES.map((s) => `${s.width}x${s.height}`).filter((s) => !mapping.includes(s));
  expect(sizes).toStrictEqual([]);
});

test('the warnings table lists exactly the warning codes of src/platform/warnings.ts, and the goldens raise no other', () => {
  const mapping = section('mapping');
  const table = mapping.slice(mapping.indexOf('| code | param | raised by |'));
  const rows = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  expect(rows).toStrictEqual([...WARNING_CODES]);
  const fixtures = join(__dirname, '../../fixtures/platform');
  const seen = new Set<string>();
  for (const f of readdirSync(fixtures)) {
    if (!f.endsWith('.upstream.json')) continue;
    const { warnings } = JSON.parse(readFileSync(join(fixtures, f), 'utf8')) as { warnings?: Array<{ code: string }> };
    for (const w of warnings ?? []) seen.add(w.code);
  }
  expect([...seen].filter((c) => !(WARNING_CODES as readonly string[]).includes(c))).toStrictEqual([]);
});

test('every assumption an adapter declares is a row of the docs/mapping.md assumptions table, and no other row is there', () => {
  const mapping = section('mapping');
  const start = mapping.indexOf('| assumption | upstream | value | source |');
  expect(start).toBeGreaterThan(0);
  const rows = mapping
    .slice(start)
    .split('\n')
    .slice(2)
    .filter((line, i, all) => line.startsWith('|') && all.slice(0, i).every((l) => l.startsWith('|')));
  const declared = [
    ...FAL_ASSUMPTIONS.map((a) => `| ${a.what} | fal | ${a.value} | ${a.source} |`),
    ...HUB_ASSUMPTIONS.map((a) => `| ${a.what} | hub | ${a.value} | ${a.source} |`),
    ...GEMINI_ASSUMPTIONS.map((a) => `| ${a.what} | gemini | ${a.value} | ${a.source} |`),
    ...REPLICATE_ASSUMPTIONS.map((a) => `| ${a.what} | replicate | ${a.value} | ${a.source} |`),
    ...OPENAI_ASSUMPTIONS.map((a) => `| ${a.what} | openai | ${a.value} | ${a.source} |`),
  ];
  expect(rows).toStrictEqual(declared);
});
