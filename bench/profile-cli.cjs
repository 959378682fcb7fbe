#!/usr/bin/env node
'use strict';
// Where a cold run of the CLI spends its time, phase by phase, in the CLI's own process: it
// starts the bundle through bin/zonectl.cjs (the scripts with their code caches), wraps
// the exports of the modules each phase goes through, runs the command and prints, on stderr,
// the time between marks (and with --timeline, the host's driver calls of 0.3 ms or more), and
// the CPU time of the process and of its main thread (run it for 10 and for 100 zones: the
// difference over 90 is a zone's).
// Usage: node bench/profile-cli.cjs [--timeline] ZONECTL-ARGS...   e.g. -q -f DIR up
// The wrapping adds a few µs a call; bench/profile-up.mjs profiles warm, in-process runs.
const marks = [['node start → script', performance.now()]];
const mark = (what) => marks.push([what, performance.now()]);
const { open } = require('../bin/zonectl.cjs');

const calls = [];
const args = process.argv.slice(2);
const timeline = args[0] === '--timeline';
if (timeline) args.shift();

const { load } = open((name) => mark(`compile ${name}.js`));
const main = load('dist/cli/main.js');
mark('load cli/main.js');

/** Marks the start and end of each call of `names`, exports of module `id` (CommonJS: the callers read them at each call). */
function wrap(id, names) {
  const m = load(id);
  for (const name of names) {
    const f = m[name];
    const value = (...a) => {
      mark(`(${name}`);
      const r = f(...a);
      if (r && typeof r.then === 'function') return r.finally(() => mark(`${name})`));
      mark(`${name})`);
      return r;
    };
    Object.defineProperty(m, name, { value, configurable: true, writable: true, enumerable: true });
  }
}

/** Every method of the host's drivers, timed (as bench/profile-up.mjs does). */
function timeDrivers(host) {
  for (const kind of ['cgroup', 'zones', 'net', 'state']) {
    const obj = host[kind];
    for (let proto = obj; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || typeof obj[name] !== 'function' || Object.hasOwn(obj, name)) continue;
        const fn = obj[name];
        obj[name] = function (...a) {
          const t = performance.now();
          const r = fn.apply(this, a);
          const done = () => calls.push([`${kind}.${name}`, t, performance.now()]);
          if (r && typeof r.then === 'function') return r.finally(done);
          done();
          return r;
        };
      }
    }
  }
}

wrap('dist/config/load.js', ['loadConfig']);
wrap('dist/host/index.js', ['createHost']);
wrap('dist/host/state/volatile.js', ['holdRunDir']);
wrap('dist/host/state/lock.js', ['lockFile']);
wrap('dist/reconcile/observe.js', ['observe']);
wrap('dist/plan/plan.js', ['plan']);
wrap('dist/reconcile/execute.js', ['execute']);
if (timeline) {
  const m = load('dist/host/index.js');
  const create = m.createHost;
  Object.defineProperty(m, 'createHost', { value: async (...a) => { const h = await create(...a); timeDrivers(h); return h; }, configurable: true, writable: true });
}
mark('load the modules wrapped above');

/** CPU time (user + system, ms) of this process's main thread, from /proc/thread-self/stat (clock ticks). */
function mainThreadCpu() {
  const fields = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime; USER_HZ is 100 on Linux
}

process.on('exit', () => {
  mark('exit');
  const lines = marks.map(([what, t], i) => `${(t - (i ? marks[i - 1][1] : 0)).toFixed(1).padStart(7)} ms  ${i ? `…→ ${what}` : what}`);
  // the helpers, zonectl-init and the zones' commands are other processes: not counted here
  const { user, system } = process.cpuUsage();
  lines.push(`CPU of this process: ${((user + system) / 1000).toFixed(1)} ms, its main thread ${mainThreadCpu().toFixed(0)} ms (10 ms ticks), its other threads the rest`);
  if (timeline) {
    lines.push('driver calls of 0.3 ms or more (ms since node started):');
    for (const [what, a, b] of calls.filter(([, a, b]) => b - a >= 0.3).sort((x, y) => x[1] - y[1])) lines.push(`  ${a.toFixed(1).padStart(7)} .. ${b.toFixed(1).padStart(7)}  ${what}`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
});
main.main(args).then((code) => {
  mark('command done');
  process.exit(code);
});
