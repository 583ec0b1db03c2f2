#!/usr/bin/env node
// The installed command: runs the compiled CLI (build it with `npm run build`).
'use strict';
/* global setTimeout */
const path = require('node:path');
const cli = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
let mod;
try {
  mod = require(cli);
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(cli)) {
    process.stderr.write('image-task-bridge: dist/src/cli.js is missing; run `npm run build` first.\n');
    process.exit(1);
  }
  throw err;
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
