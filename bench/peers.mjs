#!/usr/bin/env node
// Floor and peers: what starting one isolated process costs with the kernel's own tool
// (unshare: the floor) and with the runtimes users would pick instead (crun, runc, bwrap),
// all with the same namespaces (pid, net, uts, ipc, mount, cgroup) and, where the tool does
// cgroups, the same memory and pids limits. The command is `true` from a busybox-static rootfs.
// Usage: node bench/peers.mjs [RUNS]
//
// Exports the cases so that other scenarios (cold-start) time them interleaved with zonectl.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { factsMarkdown, fmt, interleave, isMain, machineFacts, main, onCleanup, ratio, run, SCRATCH, sleep, stats, statsTable, writeSection } from './lib.mjs';

const PACKAGES = { crun: 'crun', runc: 'runc', bwrap: 'bubblewrap', conmon: 'conmon', busybox: 'busybox-static' };
export const LIMITS = { memory: 64 * 2 ** 20, pids: 32 };

/** Install the peers from Debian's packages when missing (apt-get update first). */
export function ensurePeers() {
  const missing = Object.entries(PACKAGES)
    .filter(([bin, pkg]) => (bin === 'busybox' ? spawnSync('dpkg', ['-s', pkg]).status !== 0 : spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return [];
  console.log(`installing ${missing.join(' ')} (apt-get)`);
  run('apt-get', ['update'], { timeout: 300_000 });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return missing;
}

/** An OCI bundle: busybox-static rootfs, `args` (`true`), the same namespaces and limits as the zone. */
export function makeBundle({ name = 'oci-bundle', args = ['/bin/true'] } = {}) {
  const dir = join(SCRATCH, name);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(dir, 'rootfs', d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'rootfs/bin/busybox'));
  for (const l of ['true', 'sh', 'sleep']) symlinkSync('busybox', join(dir, 'rootfs/bin', l));
  run('runc', ['spec', '-b', dir]); // the runtime's own default config, then our changes
  const config = JSON.parse(spawnSync('cat', [join(dir, 'config.json')], { encoding: 'utf8' }).stdout);
  config.process.terminal = false;
  config.process.args = args;
  config.root = { path: 'rootfs', readonly: true };
  config.hostname = 'zb';
  config.linux.namespaces = ['pid', 'network', 'uts', 'ipc', 'mount', 'cgroup'].map((type) => ({ type }));
  config.linux.resources = { ...config.linux.resources, memory: { limit: LIMITS.memory }, pids: { limit: LIMITS.pids } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/**
 * crun 1.8 refuses a hybrid layout whose cgroup2 mount has controllers ("cgroups in hybrid
 * mode not supported, drop all controllers from cgroupv2"), whatever --cgroup-manager says.
 * Without touching the host's mounts: a private mount namespace (held by a sleep we spawn)
 * where the cgroup2 mount is detached; crun is run in it through nsenter. The nsenter itself
 * is timed as its own case (`nsenter -m true`) so its cost can be taken off.
 */
export async function crunNamespace(bundle) {
  const probe = spawnSync('crun', ['run', '-b', bundle, 'zb-probe'], { encoding: 'utf8' });
  if (probe.status === 0) return { note: 'crun runs on this host as it is', wrap: (a) => ['crun', a], enter: (cmd, a) => [cmd, a] };
  const reason = (probe.stderr || probe.stdout).trim();
  const disabled = spawnSync('crun', ['--cgroup-manager=disabled', 'run', '-b', bundle, 'zb-probe'], { encoding: 'utf8' });
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
  onCleanup(() => holder.kill('SIGKILL'));
  await sleep(100);
  const unified = spawnSync('findmnt', ['-n', '-o', 'TARGET', '-t', 'cgroup2'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  run('nsenter', ['-t', String(holder.pid), '-m', 'umount', '-l', unified]);
  const enter = (cmd, args) => ['nsenter', ['-t', String(holder.pid), '-m', cmd, ...args]];
  const wrap = (args) => enter('crun', args);
  const again = spawnSync(...wrap(['run', '-b', bundle, 'zb-probe']), { encoding: 'utf8' });
  if (again.status !== 0) throw new Error(`crun fails even with the cgroup2 mount detached: ${again.stderr.trim()}`);
  return {
    note:
      `crun refuses this host as it is: \`${reason}\` (exit ${probe.status}); \`--cgroup-manager=disabled\` is refused the same way` +
      `${disabled.status === 0 ? ' — no, it ran' : ''}. What worked: crun run inside a private mount namespace where ${unified} is ` +
      `detached (v1 hierarchies untouched, so crun's cgroupfs manager applies the memory and pids limits through v1), entered with ` +
      '`nsenter -t HOLDER -m`; the `nsenter -m true` case is that wrapper\'s cost, and "crun run (net)" takes it off.',
    wrap,
    enter,
    nsenterTrue: ['nsenter', ['-t', String(holder.pid), '-m', 'true']],
  };
}

let seq = 0;
/** The peer cases, for interleave(): { name: case }, plus notes and derived figures. */
export async function peerCases({ bundle, only } = {}) {
  ensurePeers();
  bundle ??= makeBundle();
  const crun = await crunNamespace(bundle);
  const id = (tool) => `zb-${tool}-${process.pid}-${++seq}`;
  const all = {
    'unshare (floor)': { cmd: 'unshare', args: ['--fork', '--pid', '--mount-proc', '--net', '--uts', '--ipc', '--mount', '--cgroup', 'true'] },
    'crun run': { get cmd() { return crun.wrap(['run', '-b', bundle, id('crun')])[0]; }, get args() { return crun.wrap(['run', '-b', bundle, id('crun')])[1]; } },
    'nsenter -m true (crun wrapper)': crun.nsenterTrue ? { cmd: crun.nsenterTrue[0], args: crun.nsenterTrue[1] } : { skip: true },
    'runc run': { get cmd() { return 'runc'; }, get args() { return ['run', '-b', bundle, id('runc')]; } },
    bwrap: {
      cmd: 'bwrap',
      args: ['--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-ipc', '--unshare-cgroup', '--ro-bind', join(bundle, 'rootfs'), '/', '--proc', '/proc', '--dev', '/dev', '/bin/true'],
    },
  };
  const cases = Object.fromEntries(Object.entries(all).filter(([k]) => !only || only.includes(k)));
  return { cases, notes: [crun.note, 'bwrap applies no cgroup limits (it has none); it is timed with the same namespaces.'] };
}

/** Medians and the crun figure net of its wrapper. */
export function peerMedians(samples) {
  const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, stats(xs).median]));
  if (m['crun run'] !== undefined) m['crun run (net)'] = m['crun run'] - (m['nsenter -m true (crun wrapper)'] ?? 0);
  return m;
}

if (isMain(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 30);
  await main('peers', async () => {
    const facts = machineFacts();
    const { cases, notes } = await peerCases();
    console.log(`floor and peers, ${runs} interleaved rounds`);
    const samples = await interleave(cases, runs);
    const m = peerMedians(samples);
    const floor = m['unshare (floor)'];
    const rows = Object.entries(samples).map(([k, xs]) => [k, xs, ratio(stats(xs).median, floor)]);
    console.log(`  crun run (net of nsenter) median ${fmt(m['crun run (net)'])} ms = ${ratio(m['crun run (net)'], floor)} the floor`);
    writeSection(
      'peers',
      `## Floor and peers\n\n${factsMarkdown({ ...facts, 'load average at end': (await import('./lib.mjs')).loadavg() })}\n\n` +
        `Command: \`node bench/peers.mjs ${runs}\` — ${runs} interleaved rounds after one warm-up; each case runs \`true\` with pid, net, uts, ipc, mount and cgroup namespaces; crun and runc from one OCI bundle (busybox-static rootfs, read-only, memory ${LIMITS.memory / 2 ** 20} MiB, pids ${LIMITS.pids}).\n\n` +
        statsTable(rows, ['× floor']) +
        `\n| crun run (net of the nsenter wrapper) | | | ${fmt(m['crun run (net)'])} | | ${ratio(m['crun run (net)'], floor)} |\n\n` +
        `Exact commands:\n\n\`\`\`\n${Object.entries(cases).filter(([, c]) => !c.skip).map(([k, c]) => `# ${k}\n${c.cmd} ${c.args.join(' ')}`).join('\n')}\n\`\`\`\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`,
    );
  });
}
