/**
 * Comments cite the repository's own documents (README, docs/*.md, a file) or say the rule: never a document
 * that is not in the repository ("design section 9", "seed 004", "platform document 4.5").
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const OUTSIDE = /design sections? \d|seed 0\d\d|platform document (?:sections? )?\d|design\.md/i;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('no file in src/ or adapters/ cites a document outside the repository', () => {
  const cited = [...walk(join(ROOT, 'src')), ...walk(join(ROOT, 'adapters'))].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (OUTSIDE.test(line) ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
  );
  expect(cited).toStrictEqual([]);
});

test('the pattern catches the citations it is about', () => {
  for (const line of ['(design section 9)', 'hub model reference, seed 004', 'platform document 4.5', 'platform document sections 6 and 7']) expect(OUTSIDE.test(line)).toBe(true);
  expect(OUTSIDE.test('(docs/mapping.md, "Models")')).toBe(false);
});
