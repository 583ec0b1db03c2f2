/**
 * Every TypeScript sample in the README, docs/ and the adapter guide (adapters/README.md) compiles, strict, against the package's own entry points
 * ('image-task-bridge' and 'image-task-bridge/testing' mapped to src/): a sample is what a team copies first.
 * Each ```ts block is one module, placed (in memory) at test/docs-samples/<doc>-<n>.ts so relative imports
 * written for a file under test/<folder>/ resolve. A sample that needs surrounding declarations gets them from
 * an HTML comment right above its fence, `<!-- ts-prelude ... -->`, which readers do not see. Samples are
 * compiled as modules a bundler or Node ESM would load (top-level await allowed); third-party packages a
 * sample only types against (pg, @google-cloud/storage) get minimal stubs here, not installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const DOCS = ['README.md', 'adapters/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Sample {
  readonly doc: string;
  readonly line: number;
  readonly file: string;
  readonly text: string;
}

/** The ```ts blocks of `doc` (indented ones too, as in numbered lists), with their preludes. */
export function extractSamples(doc: string, markdown: string): Sample[] {
  const samples: Sample[] = [];
  const fence = /^([ \t]*)```ts[ \t]*\n([\s\S]*?)^\1```[ \t]*$/gm;
  for (const m of markdown.matchAll(fence)) {
    const indent = m[1] as string;
    const before = markdown.slice(0, m.index);
    // Only the comment right above the fence (the last one before it) is this sample's prelude.
    const prelude = /^<!--\s*ts-prelude\s*\n([\s\S]*?)-->\s*$/.exec(before.slice(before.lastIndexOf('<!--')))?.[1] ?? '';
    const body = (m[2] as string)
      .split('\n')
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    const line = before.split('\n').length;
    const name = `${doc.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}-${line}.ts`;
    // The prelude goes last: declarations are hoisted, and the sample's own import lines stay at the top.
    samples.push({ doc, line, file: join(ROOT, 'test', 'docs-samples', name), text: `${body}\nexport {};\n${prelude}` });
  }
  return samples;
}

/** Type stubs of packages samples mention but the repository does not depend on (only what samples use). */
const STUBS: Record<string, string> = {
  pg: 'export declare class Pool { query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>; }',
  '@google-cloud/storage': [
    'import type { Readable } from "node:stream";',
    'export declare class File {',
    '  save(data: Buffer, options?: { contentType?: string; resumable?: boolean }): Promise<void>;',
    '  exists(): Promise<[boolean]>;',
    '  getMetadata(): Promise<[{ size?: string | number }]>;',
    '  createReadStream(): Readable;',
    '  delete(options?: { ignoreNotFound?: boolean }): Promise<unknown>;',
    '}',
    'export declare class Bucket { file(name: string): File; }',
  ].join('\n'),
};
const STUB_DIR = join(ROOT, 'test', 'docs-samples', 'node_modules');

const samples = DOCS.flatMap((doc) => extractSamples(doc, readFileSync(join(ROOT, doc), 'utf8')));

it('finds the samples (embedding, ports, adapter guide)', () => {
  expect(samples.length).toBeGreaterThanOrEqual(8);
});

it('every TypeScript sample in README.md, adapters/README.md and docs/*.md compiles against the package', () => {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p)).config as { compilerOptions: object };
  const { options } = ts.convertCompilerOptionsFromJson(
    {
      ...base.compilerOptions,
      noEmit: true,
      noUnusedLocals: false,
      module: 'preserve',
      moduleResolution: 'bundler',
      baseUrl: ROOT,
      paths: { 'image-task-bridge': ['src/index.ts'], 'image-task-bridge/testing': ['src/testing/index.ts'] },
    },
    ROOT,
  );
  const virtual = new Map(samples.map((s) => [s.file, s.text]));
  for (const [name, text] of Object.entries(STUBS)) virtual.set(join(STUB_DIR, name, 'index.d.ts'), text);
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  const directoryExists = host.directoryExists?.bind(host) ?? ts.sys.directoryExists;
  host.directoryExists = (d) => [...virtual.keys()].some((f) => f.startsWith(`${d}/`)) || directoryExists(d);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = virtual.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, ...rest);
  };
  const program = ts.createProgram(samples.map((s) => s.file), options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && virtual.has(d.file.fileName))
    .map((d) => {
      const sample = samples.find((s) => s.file === d.file?.fileName) as Sample;
      const { line } = (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0);
      return `${sample.doc}:${sample.line + 1 + line} (${relative(ROOT, sample.file)}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  expect(problems).toStrictEqual([]);
});

it('the adapter guide\'s registration line (step 8) is a line of adapters/index.ts', () => {
  const guide = readFileSync(join(ROOT, 'adapters', 'README.md'), 'utf8');
  const step = /^8\. \*\*Register it\*\*[\s\S]*?`(export \{[^`]+\} from '[^`]+';)`/m.exec(guide);
  expect(step).not.toBeNull();
  expect(readFileSync(join(ROOT, 'adapters', 'index.ts'), 'utf8').split('\n')).toContain(step?.[1]);
});
