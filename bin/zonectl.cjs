#!/usr/bin/env node
'use strict';
// The zonectl command. Runs the bundled CLI (dist/zonectl.js, built by `npm ci`) through
// vm.Script with its V8 code cache; see scripts/bundle.mjs for why. CommonJS on purpose:
// starting the ESM loader would cost more than everything else here.
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const root = join(__dirname, '..');
const filename = join(root, 'dist', 'zonectl.js');
let cachedData;
try {
  cachedData = readFileSync(join(root, 'dist', 'zonectl.cache'));
} catch {
  cachedData = undefined; // no cache yet: V8 compiles from source
}
const script = new vm.Script(readFileSync(filename, 'utf8'), { filename, cachedData });
const cli = script.runInThisContext()(root, createRequire(filename), pathToFileURL);
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
