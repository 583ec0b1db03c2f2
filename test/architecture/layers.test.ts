/**
 * The layer rules of docs/architecture.md, checked on every import of every file in src/ and adapters/.
 * The floors are read from the document's table, so the rule and its check cannot drift apart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');

/** folder (repository-relative, e.g. 'src/tasks') -> floor, from the table between the layers markers. */
function floorsFromDoc(doc: string): Map<string, number> {
  const table = doc.split('<!-- layers:start -->')[1]?.split('<!-- layers:end -->')[0] ?? '';
  const floors = new Map<string, number>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const floor = Number(cells[1]);
    if (cells.length < 4 || !/^\d+$/.test(cells[1] ?? '')) continue;
    for (const m of (cells[2] ?? '').matchAll(/`([^`]+)`/g)) floors.set(m[1] as string, floor);
  }
  return floors;
}

export const FLOORS = floorsFromDoc(DOC);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The folder a repository-relative file belongs to: the longest folder of the table that contains it. */
export function folderOf(file: string, floors: ReadonlyMap<string, number> = FLOORS): string | undefined {
  let best: string | undefined;
  for (const folder of floors.keys()) {
    const inside = folder === 'src' ? /^src\/[^/]+\.ts$/.test(file) : file.startsWith(`${folder}/`);
    if (inside && (best === undefined || folder.length > best.length)) best = folder;
  }
  return best;
}

interface Import {
  /** Repository-relative importer. */
  readonly from: string;
  /** Repository-relative target file (without extension), or the bare module name. */
  readonly to: string;
  /** The specifier as written. */
  readonly spec: string;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map(({ fileName: spec }) => {
    if (!spec.startsWith('.')) return { from: file, to: spec, spec };
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
    return { from: file, to: target, spec };
  });
}

/** Repository-relative target file of a relative import (`x` -> `x.ts` or `x/index.ts`). */
function targetFile(target: string): string {
  for (const candidate of [`${target}.ts`, join(target, 'index.ts'), target]) {
    try {
      if (statSync(join(ROOT, candidate)).isFile()) return candidate;
    } catch {
      // try the next candidate
    }
  }
  return `${target}.ts`;
}

const ADAPTER_MAY_USE = ['src/core', 'src/util', 'src/platform', 'src/intent', 'src/adapter-kit'];
const TOP = Math.max(...FLOORS.values());

/** Every rule of docs/architecture.md broken by one import, as sentences. */
export function violations(imp: Import, floors: ReadonlyMap<string, number> = FLOORS, fileText?: string): string[] {
  const out: string[] = [];
  const fromFolder = folderOf(imp.from, floors);
  if (fromFolder === undefined) return [`${imp.from} is in no folder of the docs/architecture.md layer table`];
  const fromFloor = floors.get(fromFolder) as number;
  if (!imp.spec.startsWith('.')) {
    if ((imp.spec === '@jest/globals' || imp.spec === '@jest/expect') && fromFolder !== 'src/testing') {
      out.push(`${imp.from} imports ${imp.spec}: only the testing entry point (src/testing) may`);
    }
    if (imp.spec === 'tsyringe' && fromFloor < TOP && fileText !== undefined && /\b(container|DependencyContainer)\b[^;]*from 'tsyringe'/.test(fileText)) {
      out.push(`${imp.from} imports tsyringe's container below the top floor: only src/di wires the graph`);
    }
    return out;
  }
  const to = targetFile(imp.to);
  const toFolder = folderOf(to, floors);
  if (toFolder === undefined) return [`${imp.from} imports ${to}, which is in no folder of the docs/architecture.md layer table`];
  const toFloor = floors.get(toFolder) as number;
  const tokens = to === 'src/di/tokens.ts';
  if (toFloor > fromFloor && !tokens) {
    out.push(`${imp.from} (floor ${fromFloor}, ${fromFolder}) imports ${to} (floor ${toFloor}, ${toFolder}): an upward import`);
  }
  if (tokens && fromFloor < TOP && fileText !== undefined) {
    const names = [...fileText.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'[^']*di\/tokens'/g)].flatMap((m) => (m[1] as string).split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter(Boolean));
    for (const name of names) {
      const uses = fileText.match(new RegExp(`\\b${name}\\b`, 'g'))?.length ?? 0;
      const decorated = fileText.match(new RegExp(`@inject(?:All)?\\(\\s*${name}\\b`, 'g'))?.length ?? 0;
      if (uses - 1 !== decorated) out.push(`${imp.from} uses the DI token ${name} outside an @inject/@injectAll decorator: only src/di wires the graph`);
    }
  }
  const fromAdapter = imp.from.startsWith('adapters/');
  if (fromAdapter && imp.from !== 'adapters/index.ts') {
    const own = imp.from.split('/').slice(0, 2).join('/');
    if (!to.startsWith(`${own}/`) && !ADAPTER_MAY_USE.includes(toFolder)) {
      out.push(`${imp.from} imports ${to}: an adapter uses only its own folder and ${ADAPTER_MAY_USE.join(', ')}`);
    }
  }
  if (imp.from === 'adapters/index.ts' && !/^adapters\/[^/]+\//.test(to)) out.push(`adapters/index.ts imports ${to}: it only lists the adapters`);
  if (to.startsWith('adapters/') && !fromAdapter && !imp.from.startsWith('src/di/')) {
    out.push(`${imp.from} imports ${to}: only the composition root (src/di) knows the adapters`);
  }
  if (toFolder === 'src/testing' && fromFolder !== 'src/testing') out.push(`${imp.from} imports the testing entry point ${to}: the runtime never loads it`);
  return out;
}

const FILES = [...walk(join(ROOT, 'src')), ...walk(join(ROOT, 'adapters'))].map((f) => relative(ROOT, f)).sort();

describe('docs/architecture.md layer rules', () => {
  it('has a floor for every folder of src/ and adapters/', () => {
    expect(FLOORS.size).toBeGreaterThan(5);
    const missing = FILES.filter((f) => folderOf(f) === undefined).map((f) => `${f}: give its folder a floor in the table of docs/architecture.md`);
    expect(missing).toStrictEqual([]);
  });

  it('no file in src/ or adapters/ breaks a rule with one of its imports', () => {
    const broken = FILES.filter((file) => folderOf(file) !== undefined).flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return importsOf(file).flatMap((imp) => violations(imp, FLOORS, text));
    });
    expect([...new Set(broken)]).toStrictEqual([]);
  });

  // The check itself can fail: each rule on an import that breaks it.
  it.each<[string, Import, string | undefined, string]>([
    ['upward import', { from: 'src/routing/router.ts', to: 'src/tasks/ports', spec: '../tasks/ports' }, undefined, 'an upward import'],
    ['adapter importing the routing', { from: 'adapters/hub/hub-adapter.ts', to: 'src/routing/registry', spec: '../../src/routing/registry' }, undefined, 'an adapter uses only'],
    ['adapter importing another adapter', { from: 'adapters/hub/hub-adapter.ts', to: 'adapters/fal/fal-models', spec: '../fal/fal-models' }, undefined, 'an adapter uses only'],
    ['src importing an adapter', { from: 'src/tasks/task-service.ts', to: 'adapters/hub/hub-adapter', spec: '../../adapters/hub/hub-adapter' }, undefined, 'only the composition root'],
    ['runtime importing the testing kit', { from: 'src/http/plugin.ts', to: 'src/testing/index', spec: '../testing' }, undefined, 'the runtime never loads it'],
    ['jest outside the testing kit', { from: 'src/routing/plan.ts', to: '@jest/globals', spec: '@jest/globals' }, undefined, 'only the testing entry point'],
    [
      'a token used outside a decorator',
      { from: 'src/tasks/settlement.ts', to: 'src/di/tokens', spec: '../di/tokens' },
      "import { CLOCK } from '../di/tokens';\nconst clock = c.resolve(CLOCK);\n",
      'outside an @inject/@injectAll decorator',
    ],
    ['the container below the top floor', { from: 'src/tasks/settlement.ts', to: 'tsyringe', spec: 'tsyringe' }, "import { container } from 'tsyringe';\n", "tsyringe's container"],
  ])('fails on %s', (_name, imp, text, expected) => {
    expect(violations(imp, FLOORS, text).join('\n')).toContain(expected);
  });

  it('src/di/tokens.ts imports types only (any floor may import it for decorators)', () => {
    const text = readFileSync(join(ROOT, 'src', 'di', 'tokens.ts'), 'utf8');
    const valueImports = [...text.matchAll(/^import\s+(?!type\b)([^;]*);/gm)].map((m) => m[0]);
    expect(valueImports).toStrictEqual([]);
  });

  it('accepts a token used only in @inject decorators below the top floor', () => {
    const text = "import { CLOCK } from '../di/tokens';\nclass A { constructor(@inject(CLOCK) clock: Clock) {} }\n";
    expect(violations({ from: 'src/tasks/settlement.ts', to: 'src/di/tokens', spec: '../di/tokens' }, FLOORS, text)).toStrictEqual([]);
  });
});
