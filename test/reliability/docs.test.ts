/**
 * docs/reliability.md names a test for every guarantee (`file` › "name"): each file must exist and contain a
 * test whose name contains that text, so the document cannot point at a test that was renamed or removed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'reliability.md'), 'utf8');
const REFERENCE = /`(test\/[^`]+\.ts)` › "([^"]+)"/g;

const references = [...DOC.matchAll(REFERENCE)].map((m) => ({ file: m[1] as string, name: m[2] as string }));

test('the document cites tests', () => {
  expect(references.length).toBeGreaterThan(40);
});

test('every cited test exists under its name', () => {
  const missing = references.filter(({ file, name }) => {
    const path = join(ROOT, file);
    if (!existsSync(path)) return true;
    // Names are cited as written in the source (quotes in a name are written \' there).
    return !readFileSync(path, 'utf8').replace(/\\'/g, "'").includes(name);
  });
  expect(missing).toStrictEqual([]);
});

test('the README contents and the operations page\'s reliability section link the document', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const contents = readme.indexOf('<!-- section: contents -->');
  expect(contents).toBeGreaterThanOrEqual(0);
  expect(readme.slice(contents, readme.indexOf('<!-- section: ', contents + 1))).toContain('(docs/reliability.md)');
  const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const start = operations.indexOf('<!-- section: reliability -->');
  expect(start).toBeGreaterThanOrEqual(0);
  expect(operations.slice(start)).toContain('(reliability.md)');
});
