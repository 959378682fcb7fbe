#!/usr/bin/env node
// The planner over 1,000 zones: a 1,000-zone desired state against a 1,000-zone actual state,
// in-process (no host: the planner is pure), CPU time per plan() call. Target (issue 9):
// ≤ 100 ms CPU. Cases: converged (no actions), every zone's memory changed (1,000 updates),
// and an empty host (1,000 creates). Usage: node bench/plan.mjs [ZONES] [RUNS]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { factsMarkdown, fmt, isMain, loadavg, machineFacts, main, root, SCRATCH, stats, writeSection } from './lib.mjs';

const dist = (p) => import(join(root, 'dist', p));

function yamlFor(n, memory) {
  const half = Math.ceil(n / 2);
  const zones = Array.from({ length: n }, (_, i) => `  z${i}:\n    command: sleep 1000\n    limits: { memory: ${memory}, pids: 64, cpus: 0.25 }\n    networks: [${i < half ? 'a' : 'b'}]\n`).join('');
  return `name: zb-plan\nnetworks:\n  a: { subnet: 10.213.224.0/21 }\n  b: { subnet: 10.213.232.0/21 }\nzones:\n${zones}`;
}

/** CPU ms (user + system) of fn, run `runs` times after `warmup`. */
function cpuTimes(fn, runs, warmup = 3) {
  for (let i = 0; i < warmup; i++) fn();
  const out = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    fn();
    const d = process.cpuUsage(c);
    out.push((d.user + d.system) / 1000);
  }
  return out;
}

async function body() {
  const zones = Number(process.argv[2] ?? 1000);
  const runs = Number(process.argv[3] ?? 20);
  const facts = machineFacts();
  const [{ loadConfig }, { plan }, { resolveAttachments }] = await Promise.all([dist('config/load.js'), dist('plan/plan.js'), dist('plan/ipam.js')]);
  const dir = join(SCRATCH, 'plan');
  mkdirSync(dir, { recursive: true });
  const load = (memory) => {
    writeFileSync(join(dir, 'zones.yaml'), yamlFor(zones, memory));
    return loadConfig({ files: [dir], env: {} }).desired;
  };
  const desired = load('64M');
  const changed = load('96M');
  rmSync(dir, { recursive: true, force: true });
  const host = { cpus: [0, 1], routes: ['0.0.0.0/0'], nft: true };
  const empty = { project: desired.project, global: null, networks: {}, zones: {}, host };
  // The actual state a perfect apply of `desired` leaves (what observe() would read back).
  const resolved = resolveAttachments(desired, empty, []);
  const actual = {
    project: desired.project,
    host,
    global: { limits: structuredClone(desired.global.limits) },
    networks: Object.fromEntries(Object.entries(desired.networks).map(([n, net]) => [n, { network: structuredClone(net), present: true }])),
    zones: Object.fromEntries(
      Object.entries(resolved).map(([name, z]) => [
        name,
        {
          name, state: 'running', pid: 1000, exit_code: null, started_at: '2026-11-29T10:00:00.000Z',
          applied: structuredClone(z), limits: structuredClone(z.limits),
          networks: Object.fromEntries(Object.entries(z.networks).map(([n, a]) => [n, { address: a.address, mac: a.mac, bandwidth: a.bandwidth }])),
          memory_current: 10 << 20,
        },
      ]),
    ),
  };
  const check = (p, kind, n) => {
    const got = p.actions.filter((a) => a.kind === kind).length;
    if (got !== n) throw new Error(`expected ${n} ${kind} actions, got ${got}`);
  };
  check(plan(desired, actual), 'create', 0);
  check(plan(changed, actual), 'update', zones);
  check(plan(desired, empty), 'create', zones + 3);
  const cases = {
    [`converged: ${zones} zones, no actions`]: cpuTimes(() => plan(desired, actual), runs),
    [`${zones} limit changes: ${zones} updates`]: cpuTimes(() => plan(changed, actual), runs),
    [`empty host: ${zones + 3} creates`]: cpuTimes(() => plan(desired, empty), runs),
  };
  const rows = Object.entries(cases).map(([k, xs]) => {
    const s = stats(xs);
    console.log(`  ${k.padEnd(40)} CPU ms: min ${fmt(s.min)}  median ${fmt(s.median)}  max ${fmt(s.max)}`);
    return `| ${k} | ${s.n} | ${fmt(s.min)} | ${fmt(s.median)} | ${fmt(s.max)} | ${s.median <= 100 ? 'met' : 'missed'} |`;
  });
  writeSection(
    'plan',
    `## Plan over ${zones} zones (in-process, pure planner)

${factsMarkdown({ ...facts, 'load average': loadavg() })}

Command: \`node bench/plan.mjs ${zones} ${runs}\`: CPU time (user + system) of one \`plan(desired, actual)\` call, ${runs} runs after 3 warm-ups; the actual state is what a perfect apply leaves (what observe reads back). Target: ≤ 100 ms CPU.

| case | n | min | median | max | ≤ 100 ms |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}`,
  );
}

if (isMain(import.meta.url)) await main('plan', body);
