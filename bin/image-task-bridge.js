#!/usr/bin/env node
// The installed command: runs the compiled CLI (build it with `npm run build`).
'use strict';
/* global setTimeout */
const path = require('node:path');
const cli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
let mod;
try {
  mod = require(cli);
} catch (err) {
  if (!(err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(cli))) throw err;
  // A fresh clone has no dist/: build it once (TypeScript is a dev dependency), then run.
  process.stderr.write('image-task-bridge: dist/ is missing; building it once (npm run build)...\n');
  try {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [path.join(__dirname, '..')] });
    require('node:child_process').execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, '..', 'tsconfig.build.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    process.stderr.write('image-task-bridge: the build failed; run `npm ci && npm run build` and try again.\n');
    process.exit(1);
  }
  mod = require(cli);
}
mod
  .main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env })
  .then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 50).unref();
  })
  .catch((err) => {
    process.stderr.write(`image-task-bridge: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
