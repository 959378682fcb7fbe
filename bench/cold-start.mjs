#!/usr/bin/env node
// Cold start of one zone (sparse root, memory + pids + cpus limits, one network): `zonectl up`
// wall time, and zonectl's own work = up minus a bare start of the same CLI (`zonectl
// --version`), as ratios to the unshare floor and to crun run, all interleaved in one run.
// `zonectl down` is timed too (it follows each up). Targets (issue 9): own work ≤ 2× unshare
// and below crun run.
// Usage: node bench/cold-start.mjs [RUNS]

import { factsMarkdown, fmt, interleave, isMain, loadavg, machineFacts, main, onCleanup, ratio, stats, statsTable, writeProject, writeSection, zoneYaml, ZONECTL, assertBlockFree, downProject } from './lib.mjs';
import { peerCases, peerMedians } from './peers.mjs';

export const PROJECT = 'zb-cold';

export function coldProject() {
  return writeProject(PROJECT, `name: ${PROJECT}\nnetworks:\n  net0:\n    subnet: 10.213.224.0/24\nzones:\n${zoneYaml('z0', { memory: '64M', pids: 32, cpus: 0.5, networks: ['net0'] })}`);
}

if (isMain(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 20);
  await main('cold-start', async () => {
    const facts = machineFacts();
    assertBlockFree();
    const dir = coldProject();
    onCleanup(() => downProject(dir));
    const { cases: peers, notes } = await peerCases({ only: ['unshare (floor)', 'crun run', 'nsenter -m true (crun wrapper)'] });
    const cases = {
      ...peers,
      'zonectl --version': { cmd: ZONECTL, args: ['--version'] },
      'zonectl up (1 zone)': { cmd: ZONECTL, args: ['-q', '-f', dir, 'up'] },
      'zonectl down (1 zone)': { cmd: ZONECTL, args: ['-q', '-f', dir, 'down', '--volumes'] },
    };
    console.log(`cold start, ${runs} interleaved rounds`);
    const samples = await interleave(cases, runs);
    const m = peerMedians(samples);
    const floor = m['unshare (floor)'];
    const crun = m['crun run (net)'];
    const own = m['zonectl up (1 zone)'] - m['zonectl --version'];
    const paired = stats(samples['zonectl up (1 zone)'].map((t, i) => t - samples['zonectl --version'][i])).median;
    const ownDown = m['zonectl down (1 zone)'] - m['zonectl --version'];
    const lines = [
      `zonectl own work (median up − median --version): ${fmt(own)} ms = ${ratio(own, floor)} the floor (target ≤ 2×), ${ratio(own, crun)} crun run net (target < 1×)`,
      `zonectl own work, paired per round (median of up − --version): ${fmt(paired)} ms = ${ratio(paired, floor)} the floor, ${ratio(paired, crun)} crun`,
      `zonectl up wall: ${ratio(m['zonectl up (1 zone)'], floor)} the floor, ${ratio(m['zonectl up (1 zone)'], crun)} crun run net`,
      `zonectl down own work: ${fmt(ownDown)} ms`,
    ];
    for (const l of lines) console.log(`  ${l}`);
    const rows = Object.entries(samples).map(([k, xs]) => [k, xs, ratio(stats(xs).median, floor), ratio(stats(xs).median, crun)]);
    writeSection(
      'cold-start',
      `## Cold start of one zone\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/cold-start.mjs ${runs}\` — ${runs} interleaved rounds after one warm-up. The zone: sparse root, \`/bin/sleep infinity\`, memory 64M, pids 32, cpus 0.5, one network (no gateway). Each round: unshare, crun, nsenter, \`zonectl --version\`, \`zonectl -q -f ${dir} up\`, \`zonectl -q -f ${dir} down --volumes\`.\n\n` +
        statsTable(rows, ['× floor', '× crun (net)']) +
        `\n\n${lines.map((l) => `- ${l}`).join('\n')}\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
    );
  });
}
