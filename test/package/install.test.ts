/**
 * The package as a backend team installs it: `npm pack` (which builds through `prepack`), the tarball's
 * contents, an install into a fresh host project offline from the local npm cache (no EBADENGINE on this
 * Node), a `strict` TypeScript host compiled against the installed types and run, and the container's
 * entrypoint command (Dockerfile CMD) run from the installed files (docs/operations.md): the image's runtime
 * stage holds the same files (the unpacked tarball plus `npm ci --omit=dev`). There is no container runtime
 * on the machines that run this suite, so the image itself is not built here.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** Where node would find `name` from the package installed at `from` ('' is the root), in `lock`. */
function locate(lock: Lockfile, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const at = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock.packages[at]) return at;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** The locations of `roots` and everything they need at run time, resolved as node would in `lock`. */
function closure(lock: Lockfile, roots: Record<string, string>): Set<string> {
  const seen = new Set<string>();
  const visit = (from: string, deps: Record<string, string>, optional: (name: string) => boolean): void => {
    for (const name of Object.keys(deps)) {
      const at = locate(lock, from, name);
      if (at === undefined) {
        if (optional(name)) continue;
        throw new Error(`${name} (needed by ${from || 'the root'}) is not in package-lock.json`);
      }
      if (seen.has(at)) continue;
      seen.add(at);
      const entry = lock.packages[at] as LockEntry;
      const peers = Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !entry.peerDependenciesMeta?.[n]?.optional));
      visit(at, { ...(entry.dependencies ?? {}), ...peers }, () => false);
      visit(at, entry.optionalDependencies ?? {}, () => true);
    }
  };
  visit('', roots, () => false);
  return seen;
}

let dir: string;
let hostDir: string;
let pkgDir: string;
let tarballFiles: string[];
let installLog: string;
let dependencies: string[];
const hostOutput: { stdout: string; stderr: string } = { stdout: '', stderr: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itb-package-'));
  // `npm pack` runs prepare (the build; incremental, so it is quick after `npm ci` built dist/).
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const info = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>)[0];
  if (!info) throw new Error('npm pack printed no package');
  tarballFiles = info.files.map((f) => f.path);

  // A host project whose lockfile pins the package's own resolved dependency tree: `npm ci --offline`
  // then needs nothing but tarballs the local cache holds after `npm ci` in this repository.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: LockEntry['peerDependenciesMeta']; engines?: unknown; bin?: unknown; license?: string };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  dependencies = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})];
  const typesNode = lock.packages['node_modules/@types/node']?.version as string;
  const runtime = closure(lock, pkg.dependencies);
  const forTypes = closure(lock, { '@types/node': typesNode });
  hostDir = join(dir, 'host');
  cpSync(join(ROOT, 'fixtures', 'host'), hostDir, { recursive: true });
  const spec = `file:../${info.filename}`;
  const hostPkg = { name: 'bridge-host', version: '1.0.0', private: true, dependencies: { [pkg.name]: spec }, devDependencies: { '@types/node': typesNode } };
  const packages: Record<string, LockEntry> = {
    '': { name: hostPkg.name, version: hostPkg.version, dependencies: hostPkg.dependencies, devDependencies: hostPkg.devDependencies },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      integrity: info.integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      ...(pkg.peerDependencies ? { peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta } : {}),
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const at of new Set([...runtime, ...forTypes])) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock.packages[at] as LockEntry;
    packages[at] = runtime.has(at) ? entry : { ...entry, dev: true };
  }
  writeFileSync(join(hostDir, 'package.json'), `${JSON.stringify(hostPkg, null, 2)}\n`);
  writeFileSync(join(hostDir, 'package-lock.json'), `${JSON.stringify({ name: hostPkg.name, version: hostPkg.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
  const installed = await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: hostDir, maxBuffer: 16 * 1024 * 1024 });
  installLog = installed.stdout + installed.stderr;
  pkgDir = join(hostDir, 'node_modules', pkg.name);

  await run(process.execPath, [TSC, '-p', join(hostDir, 'tsconfig.json')], { cwd: hostDir });
  const ran = await run(process.execPath, [join(hostDir, 'out', 'host.js')], { cwd: hostDir, timeout: 20_000 });
  hostOutput.stdout = ran.stdout;
  hostOutput.stderr = ran.stderr;
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('the tarball holds the built library, the CLI and the docs, and no tests, benchmarks, fixtures, CI files or sources', () => {
  expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'adapters/README.md', 'bin/image-task-bridge.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/src/testing/index.js', 'dist/adapters/index.js']));
  // adapters/README.md (the adapter guide the README links) is the one file shipped from adapters/.
  const stray = tarballFiles.filter((f) => (/^(test|bench|fixtures|\.ci|src|adapters|dist\/test|dist\/bench)\//.test(f) && f !== 'adapters/README.md') || f.endsWith('.map') || f.endsWith('.tsbuildinfo') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  expect(stray).toStrictEqual([]);
  // Every compiled file comes from a source that still exists: a dist/ left over from before a rename would
  // ship dead modules (rm -rf dist and build again).
  const stale = tarballFiles.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !existsSync(join(ROOT, f.slice('dist/'.length).replace(/\.js$/, '.ts'))));
  expect(stale).toStrictEqual([]);
});

it('installs offline from the local cache on this Node without engine warnings, and without sharp', () => {
  expect(installLog).not.toMatch(/EBADENGINE/);
  expect(existsSync(join(hostDir, 'node_modules', 'sharp'))).toBe(false);
  expect(existsSync(join(pkgDir, 'dist', 'src', 'index.js'))).toBe(true);
});

it('a strict TypeScript host compiles against the installed types, mounts the bridge and gets a finished task', () => {
  expect(hostOutput.stderr).toBe('');
  expect(JSON.parse(hostOutput.stdout)).toStrictEqual({
    submitStatus: 201,
    status: 'succeeded',
    result: 'https://cdn.example/h-1.png',
    // sharp is an optional peer dependency: the sandbox says how to get it instead of a bare MODULE_NOT_FOUND.
    sandbox: expect.stringContaining('Run `npm install sharp` in your project to use the sandbox'),
    // Only the entry points in the exports map are importable.
    deepImport: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
  });
});

it('the installed declarations import only node built-ins and declared (peer) dependencies (the host compiles with skipLibCheck)', () => {
  const specifiers = new Set<string>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.d.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/^(?:import|export)[^'"\n]*from '([^'.][^']*)'|import\('([^'.][^']*)'\)/gm)) specifiers.add((m[1] ?? m[2]) as string);
      }
    }
  };
  walk(join(pkgDir, 'dist'));
  const packageOf = (s: string): string => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/');
  const undeclared = [...specifiers].filter((s) => !s.startsWith('node:') && !dependencies.includes(packageOf(s)));
  expect(specifiers.size).toBeGreaterThan(0);
  expect(undeclared).toStrictEqual([]);
});

/** The runtime stage of the Dockerfile: its ENV, HEALTHCHECK command and CMD (exec form). */
function dockerRuntime(): { env: Record<string, string>; cmd: string[]; healthcheck: string[]; copies: string[] } {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV (.+)$/gm)) for (const pair of (m[1] as string).trim().split(/\s+/)) env[pair.split('=')[0] as string] = pair.split('=').slice(1).join('=');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)?.[1] ?? 'null') as string[];
  const healthcheck = JSON.parse(/^HEALTHCHECK .*CMD (\[.*\])$/m.exec(runtime)?.[1] ?? 'null') as string[];
  const copies = [...text.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => (m[1] as string).trim().split(/\s+/).slice(0, -1));
  return { env, cmd, healthcheck, copies };
}

/** Runs `argv` in `cwd` until `ready` matches stderr; returns the child and what matched. */
function runUntil(argv: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp) {
  const child = spawn(argv[0] as string, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const matched = new Promise<RegExpExecArray | null>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += String(d);
      const m = ready.exec(stderr);
      if (m) resolve(m);
    });
    void exited.then(() => resolve(null));
  });
  child.stdout.resume();
  return { child, exited, matched, stderr: () => stderr };
}

describe('the container entrypoint, run from the installed package files', () => {
  it('every file the Dockerfile copies from the build context exists and is not excluded by .dockerignore', () => {
    const { copies, cmd, healthcheck } = dockerRuntime();
    expect(cmd[0]).toBe('node');
    expect(healthcheck[0]).toBe('node');
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    expect(copies.filter((c) => !existsSync(join(ROOT, c)) || ignored.includes(c.replace(/\/$/, '')))).toStrictEqual([]);
    expect(copies).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'adapters', 'bin']));
  });

  it('CMD serves the API with a real upstream configured; the HEALTHCHECK command passes; SIGTERM stops it with 0', async () => {
    const hub = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    const { env, cmd, healthcheck } = dockerRuntime();
    const run = runUntil(cmd, pkgDir, {
      PATH: process.env.PATH,
      ...env,
      HOST: '127.0.0.1',
      PORT: '0',
      BLOB_DIR: join(dir, 'blobs'),
      GATEWAY_API_KEYS: 'sk-container-test-1',
      HUB_BASE_URL: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
      HUB_API_KEY: 'hub-key',
      LOG_LEVEL: 'warn',
    }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    try {
      const m = await run.matched;
      expect(run.stderr()).toMatch(/listening on/);
      const port = (m as RegExpExecArray)[1] as string;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const refused = await fetch(`http://127.0.0.1:${port}/v1/images/tasks`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
      expect(refused.status).toBe(401);
      const probe = await run0(healthcheck, { PATH: process.env.PATH, PORT: port });
      expect(probe).toBe(0);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      hub.close();
    }
  });

  it('CMD with no upstream and no sharp (a production image) refuses to start and says how to get the sandbox', async () => {
    const { env, cmd } = dockerRuntime();
    const run = runUntil(cmd, pkgDir, { PATH: process.env.PATH, ...env, HOST: '127.0.0.1', PORT: '0', BLOB_DIR: join(dir, 'blobs'), LOG_LEVEL: 'warn' }, /$^/);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('Run `npm install sharp` in your project to use the sandbox');
  });
});

function run0(argv: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => spawn(argv[0] as string, argv.slice(1), { env, stdio: 'ignore' }).on('exit', (code) => resolve(code)));
}
