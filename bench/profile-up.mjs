#!/usr/bin/env node
// Where one `up` spends its time, phase by phase and step by step, in-process (the built
// modules under dist/, the real host): load + createHost, lock, observe, plan, and each
// execute step (from the executor's own step events), then the same for down.
// Usage: node bench/profile-up.mjs [-f PROJECT_DIR] [--timeline] [ROUNDS]   (default: the cold-start project)

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { downProject, isMain, main, onCleanup, root, stats, fmt } from './lib.mjs';
import { coldProject } from './cold-start.mjs';

const imp = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

export async function profileUp(dir, { removing = false } = {}) {
  const [{ openProject }, { observe }, { plan: diff, usesNftables }, { execute }, { lockFile }] = await Promise.all([
    imp('app/project.js'), imp('reconcile/observe.js'), imp('plan/plan.js'), imp('reconcile/execute.js'), imp('host/state/lock.js'),
  ]);
  const t0 = performance.now();
  const marks = [];
  const mark = (what) => marks.push([what, performance.now()]);
  const { desired: d0, host } = await openProject({ files: [dir] });
  const calls = [];
  timeDrivers(host, calls);
  const desired = removing ? { ...d0, networks: {}, zones: {} } : d0;
  mark('load config + createHost');
  // as app/up.ts: the run directory (a tmpfs of zonectl's own where /run is on a disk), then the lock
  const runDir = await host.state.hold();
  mark('run directory');
  const steps = [];
  let result;
  let plan;
  try {
    const lock = await lockFile(host.state.lockPath(desired.project));
    mark('lock');
    try {
      const actual = await observe(host, desired.project, { nft: usesNftables(desired) });
      mark('observe');
      plan = diff(desired, actual, { prune: true });
      mark('plan');
      const events = {
        step: (a, s) => steps.push([`${a.kind} ${a.id}: ${s}`, performance.now()]),
        done: (a) => steps.push([`${a.kind} ${a.id}: (done)`, performance.now()]),
      };
      result = await execute(plan, host, events, { volumes: removing });
      mark('execute');
    } finally {
      lock.release(); // the cleanup's down must not wait for this process
    }
    if (removing) {
      lock.removeAndRelease?.();
      await host.state.removeProjectDir(desired.project);
    }
  } finally {
    await runDir.release(); // the last one out unmounts it and removes the empty directory
  }
  mark('release');
  if (!result.ok) throw new Error(`execute failed: ${[...result.results.values()].filter((r) => r.status === 'failed').map((r) => r.error.message).join('; ')}`);
  // a step's time: from its start event to the next event of the same action
  const byAction = new Map();
  for (const [label, t] of steps) {
    const id = label.split(':')[0];
    (byAction.get(id) ?? byAction.set(id, []).get(id)).push([label, t]);
  }
  const stepTimes = [];
  for (const list of byAction.values()) for (let i = 0; i + 1 < list.length; i++) stepTimes.push([list[i][0], list[i + 1][1] - list[i][1]]);
  let prev = t0;
  const phases = marks.map(([w, t]) => {
    const r = [w, t - prev];
    prev = t;
    return r;
  });
  return { phases, steps: stepTimes, calls, total: prev - t0, plan, t0 };
}

/** Wrap every method of the host's drivers so that each call's wall time is recorded. */
function timeDrivers(host, calls) {
  for (const kind of ['cgroup', 'zones', 'net', 'state']) {
    const obj = host[kind];
    for (let proto = obj; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || typeof obj[name] !== 'function' || Object.hasOwn(obj, `__timed_${name}`)) continue;
        const fn = obj[name];
        obj[`__timed_${name}`] = true;
        obj[name] = function (...args) {
          const t = performance.now();
          const r = fn.apply(this, args);
          if (r && typeof r.then === 'function') return r.finally(() => calls.push([`${kind}.${name}`, performance.now() - t, t]));
          calls.push([`${kind}.${name}`, performance.now() - t, t]);
          return r;
        };
      }
    }
  }
  const facts = host.facts;
  host.facts = (...args) => {
    const t = performance.now();
    return facts(...args).finally(() => calls.push(['host.facts', performance.now() - t, t]));
  };
}

/** Total time and count per driver method (calls overlap when run in parallel). */
function sumCalls(calls) {
  const m = new Map();
  for (const [k, v] of calls) m.set(k, (m.get(k) ?? 0) + v);
  const n = new Map();
  for (const [k] of calls) n.set(k, (n.get(k) ?? 0) + 1);
  return [...m].map(([k, v]) => [`${k} ×${n.get(k)}`, v]);
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const wantTimeline = args.includes('--timeline');
  if (wantTimeline) args.splice(args.indexOf('--timeline'), 1);
  const fi = args.indexOf('-f');
  const rounds = Number(args.filter((a, i) => i !== fi && i !== fi + 1)[0] ?? 5);
  await main('profile-up', async () => {
    const dir = fi >= 0 ? args[fi + 1] : coldProject();
    onCleanup(() => downProject(dir));
    const acc = new Map();
    const add = (k, v) => (acc.get(k) ?? acc.set(k, []).get(k)).push(v);
    let timeline;
    for (let i = 0; i < rounds; i++) {
      const up = await profileUp(dir);
      if (wantTimeline) timeline = up;
      for (const [k, v] of up.phases) add(`up   ${k}`, v);
      for (const [k, v] of up.steps) add(`up     ${k}`, v);
      add('up   TOTAL', up.total);
      for (const [k, v] of sumCalls(up.calls)) add(`up   call ${k}`, v);
      const noop = await profileUp(dir);
      for (const [k, v] of noop.phases) add(`noop ${k}`, v);
      add('noop TOTAL', noop.total);
      for (const [k, v] of sumCalls(noop.calls)) add(`noop call ${k}`, v);
      const down = await profileUp(dir, { removing: true });
      for (const [k, v] of down.phases) add(`down ${k}`, v);
      for (const [k, v] of down.steps) add(`down   ${k}`, v);
      add('down TOTAL', down.total);
      for (const [k, v] of sumCalls(down.calls)) add(`down call ${k}`, v);
    }
    if (timeline) {
      // the last round's up: every driver call that took 0.5 ms or more, from..to since the start
      console.log('timeline of the last up (ms since load; driver calls of 0.5 ms or more):');
      for (const [k, d, t] of timeline.calls.filter((c) => c[1] >= 0.5).sort((a, b) => a[2] - b[2])) {
        console.log(`  ${fmt(t - timeline.t0).padStart(6)} .. ${fmt(t + d - timeline.t0).padStart(6)}  ${k}`);
      }
    }
    console.log(`median over ${rounds} rounds (in-process, so no node start-up):`);
    for (const [k, xs] of acc) console.log(`  ${k.padEnd(70)} ${fmt(stats(xs).median).padStart(8)} ms`);
  });
}
