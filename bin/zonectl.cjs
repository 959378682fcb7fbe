#!/bin/sh
':' //; if [ "${NODE_EXTRA_CA_CERTS+set}" ]; then export ZONECTL_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; fi; exec node "$0" "$@"
'use strict';
// The zonectl command. Runs the bundled CLI (dist/zonectl.js, and dist/zonectl-host.js for
// the commands that touch the host; built by `npm ci`) through vm.Script with their V8 code
// caches; see scripts/bundle.mjs for why. CommonJS on purpose: starting the ESM loader would
// cost more than everything else here.
//
// The first two lines are a shell script, and to JavaScript a string and a comment. Run as a
// command, /bin/sh moves NODE_EXTRA_CA_CERTS aside and runs node on this file (node resolves a
// symlink such as node_modules/.bin/zonectl to it). Node 20 reads and parses that file's
// certificates at every start, before any script runs: ~50 ms here, where a start without it
// takes ~25. zonectl makes no TLS connection, so its own node does without them; the value is
// put back below before anything reads the environment, so that interpolation in zones.yaml
// and every process zonectl starts see the caller's environment unchanged. The shell costs
// what `/usr/bin/env node` cost: one exec more. Run as `node bin/zonectl.cjs`, node pays for
// the certificates as it always does.
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
  const moved = process.env.ZONECTL_NODE_EXTRA_CA_CERTS; // by the shell line at the top
  if (moved !== undefined) {
    process.env.NODE_EXTRA_CA_CERTS = moved;
    delete process.env.ZONECTL_NODE_EXTRA_CA_CERTS;
  }
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
