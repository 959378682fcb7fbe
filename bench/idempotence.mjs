#!/usr/bin/env node
// Idempotence and hot reload on a converged one-zone project:
//  - no-op `up` and `plan` (observe + plan, nothing to do) against `zonectl --version`;
//  - hot reload by `up`: the memory limit changed in the file, `up` run, the new value read
//    back from the zone's cgroup (time from the start of `up` to the value being there);
//  - hot reload in watch mode: `up --watch` running, the file replaced by rename, the cgroup
//    file polled until it shows the new value (target p99 ≤ 150 ms, default debounce).
// The zone's pid must not change across reloads (in place, no restart): checked.
// Usage: node bench/idempotence.mjs [RUNS] [EDITS]

import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { assertBlockFree, downProject, factsMarkdown, fmt, interleave, isMain, loadavg, machineFacts, main, onCleanup, ratio, sleep, stats, statsTable, writeProject, writeSection, zonectl, ZONECTL, zoneYaml } from './lib.mjs';

const PROJECT = 'zb-idem';
const MiB = 2 ** 20;

function projectText(memoryMiB) {
  return `name: ${PROJECT}\nnetworks:\n  net0:\n    subnet: 10.213.225.0/24\nzones:\n${zoneYaml('z0', { memory: `${memoryMiB}M`, pids: 32, cpus: 0.5, networks: ['net0'] })}`;
}

/** The zone's memory limit file (v1 memory hierarchy, or v2 memory.max). */
function memoryFile() {
  const mi = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = mi.find((l) => / - cgroup .*\bmemory\b/.test(l));
  if (v1) return join(v1.split(' ')[4], 'zonectl', PROJECT, 'z0', 'memory.limit_in_bytes');
  const v2 = mi.find((l) => / - cgroup2 /.test(l));
  return join(v2.split(' ')[4], 'zonectl', PROJECT, 'z0', 'memory.max');
}

function zonePid(dir) {
  return JSON.parse(zonectl(['-f', dir, 'ps', '--json']).stdout)[0].pid;
}

/** Rename a new file over zones.yaml (an editor's atomic save). */
function save(dir, text) {
  writeFileSync(join(dir, '.zones.yaml.tmp'), text);
  renameSync(join(dir, '.zones.yaml.tmp'), join(dir, 'zones.yaml'));
}

async function until(pred, timeoutMs) {
  const t = performance.now();
  for (;;) {
    if (pred()) return performance.now() - t;
    if (performance.now() - t > timeoutMs) throw new Error(`not applied within ${timeoutMs} ms`);
    await sleep(1);
  }
}

if (isMain(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 20);
  const edits = Number(process.argv[3] ?? 100);
  await main('idempotence', async () => {
    const facts = machineFacts();
    assertBlockFree();
    const dir = writeProject(PROJECT, projectText(64));
    onCleanup(() => downProject(dir));
    zonectl(['-q', '-f', dir, 'up']);
    const pid = zonePid(dir);
    const mem = memoryFile();

    console.log(`no-op up and plan, ${runs} interleaved rounds`);
    const noop = await interleave(
      {
        'zonectl --version': { cmd: ZONECTL, args: ['--version'] },
        'zonectl up (converged, no-op)': { cmd: ZONECTL, args: ['-q', '-f', dir, 'up'] },
        'zonectl plan (converged)': { cmd: ZONECTL, args: ['-f', dir, 'plan'] },
        'zonectl ps': { cmd: ZONECTL, args: ['-f', dir, 'ps'] },
      },
      runs,
    );

    console.log(`hot reload by up (memory 64M ↔ 96M), ${runs} edits`);
    let mib = 64;
    const byUp = await interleave(
      {
        'edit + zonectl up → limit in the cgroup': {
          fn: async () => {
            mib = mib === 64 ? 96 : 64;
            const t = performance.now();
            save(dir, projectText(mib));
            zonectl(['-q', '-f', dir, 'up']);
            const got = Number(readFileSync(mem, 'utf8'));
            if (got !== mib * MiB) throw new Error(`after up, ${mem} is ${got}, not ${mib * MiB}`);
            return performance.now() - t;
          },
        },
      },
      runs,
    );

    console.log(`hot reload in watch mode, ${edits} edits`);
    const watch = spawn(ZONECTL, ['-f', dir, 'up', '--watch', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let watchOut = '';
    watch.stdout.on('data', (b) => (watchOut += b));
    watch.stderr.on('data', (b) => (watchOut += b));
    onCleanup(() => watch.kill('SIGTERM'));
    await until(() => watchOut.includes('\n'), 10_000); // the first reconcile printed: watching
    const lat = [];
    for (let i = 0; i < edits; i++) {
      mib = mib === 64 ? 96 : 64;
      const t = performance.now();
      save(dir, projectText(mib));
      await until(() => Number(readFileSync(mem, 'utf8')) === mib * MiB, 10_000);
      lat.push(performance.now() - t);
      await sleep(50); // let the reconcile finish before the next edit
      process.stdout.write(`\redit ${i + 1}/${edits}`);
    }
    process.stdout.write('\n');
    watch.kill('SIGTERM');
    await new Promise((r) => watch.once('exit', r));
    const w = stats(lat);
    console.log(`  watch: p50 ${fmt(w.median)} ms  p99 ${fmt(w.p99)} ms  max ${fmt(w.max)} ms (target p99 ≤ 150 ms)`);
    const pidAfter = zonePid(dir);
    if (pidAfter !== pid) throw new Error(`the zone restarted: pid ${pid} → ${pidAfter}`);

    const v = stats(noop['zonectl --version']).median;
    const rows = [
      ...Object.entries(noop).map(([k, xs]) => [k, xs, fmt(stats(xs).median - v)]),
      ...Object.entries(byUp).map(([k, xs]) => [k, xs, fmt(stats(xs).median - v)]),
    ];
    writeSection(
      'idempotence',
      `## No-op up, plan, hot reload (one zone)\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/idempotence.mjs ${runs} ${edits}\` on project ${PROJECT} (one zone as in cold start, running). Hot reload edits memory 64M ↔ 96M by renaming a new file over zones.yaml and reads ${mem}; the zone's pid is the same before and after (${pid}): applied in place.\n\n` +
        statsTable(rows, ['− --version (own work)']) +
        `\n\nWatch mode (\`zonectl -f DIR up --watch --json\`, default debounce 100 ms): rename → new value in the cgroup file, ${edits} edits: ` +
        `min ${fmt(w.min)}, p50 ${fmt(w.median)}, p99 ${fmt(w.p99)}, max ${fmt(w.max)} ms (target p99 ≤ 150 ms: ${w.p99 <= 150 ? 'met' : 'missed'}).\n\n` +
        `- no-op up own work ${fmt(stats(noop['zonectl up (converged, no-op)']).median - v)} ms; wall ${ratio(stats(noop['zonectl up (converged, no-op)']).median, v)} a bare \`--version\`.\n`,
    );
  });
}
