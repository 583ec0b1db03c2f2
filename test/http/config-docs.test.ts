/** docs/configuration.md, --help and the configuration loader name exactly the same environment variables. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP } from '../../src/cli/main';
import { CONFIG_VARIABLES } from '../../src/config/config';

const page = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
const start = page.indexOf('<!-- section: configuration -->');
const end = page.indexOf('<!-- section: ', start + 1);
const section = page.slice(start, end < 0 ? undefined : end);
const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

test('the docs/configuration.md table has one row per variable the loader reads, and no other', () => {
  expect([...documented].sort()).toStrictEqual([...CONFIG_VARIABLES].sort());
});

test('--help names every variable the loader reads', () => {
  const helpNames = [...HELP.matchAll(/\b[A-Z][A-Z0-9_]{2,}\b/g)].map((m) => m[0]);
  expect(CONFIG_VARIABLES.filter((name) => !helpNames.includes(name))).toStrictEqual([]);
});
