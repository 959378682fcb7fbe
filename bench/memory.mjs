#!/usr/bin/env node
// Memory per zone at 100 zones: what zonectl leaves running for each zone (the supervisor and
// the zone's init: zonectl-init, a libc-free init from a memfd), read from /proc/PID/status (VmRSS) and
// /proc/PID/smaps_rollup (Pss: shared pages split between the processes sharing them), the
// zone's own command (sleep) reported apart; and the host's MemAvailable before and after up.
// Target (issue 9): ≤ 1 MiB per zone for zonectl's processes; no daemon.
// Usage: node bench/memory.mjs [ZONES]

import { readFileSync } from 'node:fs';

import { assertBlockFree, downProject, factsMarkdown, fmt, isMain, loadavg, machineFacts, main, onCleanup, sleep, stats, timeFn, writeSection, zonectl } from './lib.mjs';
import { scaleProject } from './scale.mjs';

const KiB = (s, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const meminfo = () => readFileSync('/proc/meminfo', 'utf8');

function proc(pid) {
  const st = status(pid);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    pid,
    name: /^Name:\s+(.*)$/m.exec(st)[1],
    ppid: Number(/^PPid:\s+(\d+)/m.exec(st)[1]),
    rss: KiB(st, 'VmRSS'),
    pss: KiB(rollup, 'Pss'),
    children: readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  };
}

export function zoneProcesses(dir) {
  const zones = JSON.parse(zonectl(['-f', dir, 'ps', '--json']).stdout);
  return zones.map((z) => {
    const init = proc(z.pid);
    const supervisor = proc(init.ppid);
    const command = init.children.map(proc);
    return { zone: z.name, supervisor, init, command };
  });
}

if (isMain(import.meta.url)) {
  const n = Number(process.argv[2] ?? 100);
  await main('memory', async () => {
    const facts = machineFacts();
    assertBlockFree();
    const dir = scaleProject(n, 'zb-mem');
    onCleanup(() => downProject(dir));
    await sleep(500);
    const before = meminfo();
    const upMs = await timeFn(() => zonectl(['-q', '-f', dir, 'up'], { timeout: 600_000 }));
    await sleep(1000);
    const after = meminfo();
    const procs = zoneProcesses(dir);
    if (procs.length !== n) throw new Error(`${procs.length} zones of ${n} running`);
    const col = (f) => procs.map(f);
    const sup = { rss: col((p) => p.supervisor.rss), pss: col((p) => p.supervisor.pss) };
    const init = { rss: col((p) => p.init.rss), pss: col((p) => p.init.pss) };
    const cmd = { rss: col((p) => p.command.reduce((a, c) => a + c.rss, 0)), pss: col((p) => p.command.reduce((a, c) => a + c.pss, 0)) };
    const both = { rss: procs.map((p) => p.supervisor.rss + p.init.rss), pss: procs.map((p) => p.supervisor.pss + p.init.pss) };
    const availDelta = (KiB(before, 'MemAvailable') - KiB(after, 'MemAvailable')) / n;
    const usedDelta = ((KiB(after, 'MemTotal') - KiB(after, 'MemFree')) - (KiB(before, 'MemTotal') - KiB(before, 'MemFree'))) / n;
    const slabDelta = (KiB(after, 'Slab') - KiB(before, 'Slab')) / n;
    const row = (what, xs) => {
      const s = stats(xs);
      return `| ${what} | ${fmt(s.min, 0)} | ${fmt(s.median, 0)} | ${fmt(s.max, 0)} |`;
    };
    const table = [
      '| per zone (KiB) | min | median | max |',
      '| --- | --- | --- | --- |',
      row('supervisor (zonectl-helper) RSS', sup.rss),
      row('supervisor PSS', sup.pss),
      row('zone init (zonectl-init) RSS', init.rss),
      row('zone init PSS', init.pss),
      row('**zonectl per zone: supervisor + init RSS**', both.rss),
      row('**zonectl per zone: supervisor + init PSS**', both.pss),
      row('the zone\'s command (sleep) RSS, not zonectl\'s', cmd.rss),
    ].join('\n');
    console.log(table);
    console.log(`host MemAvailable − ${fmt(availDelta, 0)} KiB per zone, MemTotal−MemFree + ${fmt(usedDelta, 0)} KiB per zone, Slab + ${fmt(slabDelta, 0)} KiB per zone (up of ${n} zones took ${fmt(upMs)} ms)`);
    const perZoneMiB = stats(both.rss).median / 1024;
    writeSection(
      'memory',
      `## Memory per zone (${n} zones)\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/memory.mjs ${n}\`: ${n} zones as in the scale scenario (project zb-mem), up, 1 s settle; pids from \`zonectl ps --json\` (the zone's pid 1, zonectl-init) and their parent (the supervisor), read from /proc/PID/status and /proc/PID/smaps_rollup. No daemon: nothing else of zonectl stays running.\n\n${table}\n\n` +
        `- zonectl's own processes: ${fmt(perZoneMiB, 2)} MiB RSS per zone (target ≤ 1 MiB: ${perZoneMiB <= 1 ? 'met' : 'missed'}); PSS ${fmt(stats(both.pss).median / 1024, 2)} MiB (the static helper's text is shared). Reference figures from the issue, not measured here: conmon ≈ 1.9 MiB, crun run ≈ 3.3 MiB, runc ≈ 9.9 MiB.\n` +
        `- host, all of it per zone (kernel objects included: netns, veth, cgroups in ${facts.cgroups.startsWith('hybrid') ? '8 v1 hierarchies' : 'the unified hierarchy'}, mounts, the zone's own sleep; noisy: other work runs on this machine): MemAvailable −${fmt(availDelta, 0)} KiB, MemTotal−MemFree +${fmt(usedDelta, 0)} KiB, Slab +${fmt(slabDelta, 0)} KiB.\n`,
    );
  });
}
