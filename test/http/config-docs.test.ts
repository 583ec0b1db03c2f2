/** README, --help and the configuration loader name exactly the same environment variables. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP } from '../../src/cli/main';
import { CONFIG_VARIABLES } from '../../src/config/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('<!-- section: configuration -->'), readme.indexOf('<!-- section: embedding -->'));
const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

test('the README configuration table has one row per variable the loader reads, and no other', () => {
  expect([...documented].sort()).toStrictEqual([...CONFIG_VARIABLES].sort());
});

test('--help names every variable the loader reads', () => {
  const helpNames = [...HELP.matchAll(/\b[A-Z][A-Z0-9_]{2,}\b/g)].map((m) => m[0]);
  expect(CONFIG_VARIABLES.filter((name) => !helpNames.includes(name))).toStrictEqual([]);
});
