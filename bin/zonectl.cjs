#!/usr/bin/env node
'use strict';
// The zonectl command. Runs the bundled CLI (dist/zonectl.js, and dist/zonectl-host.js for
// the commands that touch the host; built by `npm ci`) through vm.Script with their V8 code
// caches; see scripts/bundle.mjs for why. CommonJS on purpose: starting the ESM loader would
// cost more than everything else here.
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const root = join(__dirname, '..');

/**
 * native/src/map.c's mapping of a file (`buffer`, `latin1`: undefined when it cannot map one), or
 * null where the addon is not built or cannot load (a Node without external strings): then the
 * files are read.
 */
let mapper;
function mapped() {
  if (mapper === undefined) {
    try {
      const module = { exports: {} };
      process.dlopen(module, join(root, 'native', 'build', 'Release', 'zonectl_map.node'));
      mapper = module.exports;
    } catch {
      mapper = null;
    }
  }
  return mapper;
}

/** Compiles dist/NAME.js with its code cache and returns the function it evaluates to. */
function compile(name) {
  const filename = join(root, 'dist', `${name}.js`);
  const cacheFile = join(root, 'dist', `${name}.cache`);
  const map = mapped();
  let cachedData = map?.buffer(cacheFile);
  if (cachedData === undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // no cache yet: V8 compiles from source
    }
  }
  // ASCII only (scripts/bundle.mjs escapes the rest): a one-byte string, as latin1 with no decoding
  const source = map?.latin1(filename) ?? readFileSync(filename, 'latin1');
  return new vm.Script(source, { filename, cachedData }).runInThisContext();
}

/** The bundle's module registry (`load(id)`); `compiled` is told each script it compiles. */
function open(compiled = () => {}) {
  const each = (name) => {
    const fn = compile(name);
    compiled(name);
    return fn;
  };
  return each('zonectl')(root, createRequire(join(root, 'dist', 'zonectl.js')), pathToFileURL, each);
}

if (require.main !== module) {
  module.exports = { open }; // bench/profile-cli.cjs starts the CLI the same way
} else {
  // Which of stdout and stderr the command used: setting one up costs 2-4 ms (a pipe is a
  // net.Socket), so the end below does not ask one that was never written to.
  const used = new Set();
  for (const name of ['stdout', 'stderr']) {
    const { get } = Object.getOwnPropertyDescriptor(process, name);
    Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => (used.add(name), get.call(process)) });
  }
  const drained = () => [...used].every((name) => process[name].writableLength === 0);

  const registry = open();
  registry
    .load('dist/cli/main.js')
    .main(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
      // Once everything written is out, no natural end: that waits for V8's background jobs
      // (optimising compiles of code that will never run again: ~19 ms after a no-op up of 100
      // zones). Output still queued for a pipe (a large `ps --json`) ends naturally instead.
      if (!drained()) return;
      // A command that touched the host has the addon loaded: it ends without Node's teardown.
      if (registry.loaded().includes('dist/native/index.js')) registry.load('dist/native/index.js').exitNow(code);
      process.exit(code);
    });
}
