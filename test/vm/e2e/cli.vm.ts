// zonectl end to end on a real cgroup v2 kernel (issue 10): the CLI, as a user runs it, on a
// 2-zone project with limits and a network, in the guest that test/vm/run-v2.sh boots
// (cgroup_no_v1=all). Every check reads its fact back from the kernel: the cgroup files under
// /sys/fs/cgroup/zonectl/PROJECT/ZONE, /proc/PID/cgroup, the links, the nftables table.
//
// The steps run in order and build on each other: up, a hot limit change through up (the
// zone's pid unchanged), stats with real usage, an OOM kill inside one zone only, down -v
// leaving nothing behind.
//
// This file runs only there (test/vm/vitest.config.ts, project e2e-v2; the default run never
// includes *.vm.ts). Anywhere else it refuses to load, before running anything.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFlatKeyed, parsePids } from '../../../src/host/cgroup/format.js';
import { layoutOf } from '../../../src/host/cgroup/index.js';
import { tableName } from '../../../src/host/net/nft.js';
import { bridgeName, IFNAME_PREFIX, vethHostName } from '../../../src/model/names.js';

const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
if (layout.mode !== 'unified' || process.getuid?.() !== 0) {
  throw new Error(
    `test/vm/e2e/cli.vm.ts runs only as root on a cgroup v2 (unified) host, such as the guest of test/vm/run-v2.sh; here the layout is ${layout.mode} and the uid ${process.getuid?.()}`,
  );
}

const repo = join(import.meta.dirname, '..', '..', '..');
const bin = join(repo, 'bin', 'zonectl.cjs');
const ROOT = '/sys/fs/cgroup';
const TOP = join(ROOT, 'zonectl');
const project = `zt-v2-${randomBytes(3).toString('hex')}`;
const projectDir = join(TOP, project);
// One /24 inside 10.213.232.0/21 (the guest has no other network: any of them is free).
const subnet = `10.213.${232 + randomInt(8)}.0/24`;
const MiB = 1024 * 1024;

/** The zones file; `steadyMemory` is what the hot change edits. */
function zonesFile(steadyMemory: string): string {
  return [
    `name: ${project}`,
    'networks:',
    '  lan:',
    `    subnet: ${subnet}`,
    '    gateway: true',
    '    egress: nat',
    'zones:',
    '  steady:',
    '    command: ["/bin/sleep", "infinity"]',
    '    networks:',
    '      lan: { bandwidth: 20mbit }',
    `    limits: { cpus: 0.5, memory: ${steadyMemory}, pids: 32 }`,
    '  hog:',
    '    command: ["/bin/sleep", "infinity"]',
    '    networks: [lan]',
    '    limits: { cpus: 0.25, memory: 32M, pids: 16 }',
    '',
  ].join('\n');
}

let dir = '';
let file = '';
/** Whether /sys/fs/cgroup/zonectl existed before this file ran (an earlier suite's leftover). */
let topExisted = false;
/** Every zone pid seen, to prove they are all gone after down. */
const pidsSeen = new Set<number>();

/** `zonectl CMD -f FILE ARGS...`; node under TCG is slow, hence the long timeout. */
function zonectl(cmd: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, cmd, '-f', file, ...args], { encoding: 'utf8', timeout: 150_000 });
}

/** Runs zonectl and fails with its output unless it exits 0. */
function ok(cmd: string, ...args: string[]): string {
  const r = zonectl(cmd, ...args);
  const shown = `zonectl ${cmd} ${args.join(' ')}: exit ${r.status} (${r.signal ?? 'no signal'})${r.error ? ` ${r.error.message}` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  if (r.status !== 0) throw new Error(shown);
  // up and down say what they did; ps and stats are checked, not shown
  if (cmd === 'up' || cmd === 'down') console.log(shown.replace(/\n+$/, ''));
  return r.stdout;
}

interface PsRow {
  name: string;
  state: string;
  pid: number | null;
}
interface StatsRow {
  name: string;
  memory: { current: number; limit: number | null; oom_kills: number };
  pids: { current: number; limit: number | null };
}

function ps(): Map<string, PsRow> {
  const rows = JSON.parse(ok('ps', '--json')) as PsRow[];
  for (const r of rows) if (r.pid !== null) pidsSeen.add(r.pid);
  return new Map(rows.map((r) => [r.name, r]));
}

function runningPid(zone: string): number {
  const row = ps().get(zone);
  expect(row, `zone ${zone} in ps`).toBeDefined();
  expect({ zone, state: row!.state }).toEqual({ zone, state: 'running' });
  expect(row!.pid).toBeGreaterThan(0);
  return row!.pid!;
}

function stats(): Map<string, StatsRow> {
  const rows = JSON.parse(ok('stats', '--no-stream', '--json')) as StatsRow[];
  return new Map(rows.map((r) => [r.name, r]));
}

const control = (path: string): string => readFileSync(path, 'utf8').trim();
const zoneDir = (zone: string): string => join(projectDir, zone);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Pids of every live process whose cgroup lies under the project's. */
function processesInProject(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let cg: string;
    try {
      cg = readFileSync(`/proc/${name}/cgroup`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (cg.includes(`/zonectl/${project}/`) || cg.trimEnd().endsWith(`/zonectl/${project}`)) out.push(Number(name));
  }
  return out;
}

function links(): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => /^[0-9]+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n !== '');
}

function nftTables(): string {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  expect(r.status, `nft list tables: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe(`zonectl CLI end to end on cgroup v2 (project ${project}, subnet ${subnet})`, () => {
  beforeAll(() => {
    topExisted = existsSync(TOP);
    dir = mkdtempSync(join(tmpdir(), 'zonectl-e2e-v2-'));
    file = join(dir, 'zones.yaml');
    writeFileSync(file, zonesFile('64M'));
  });

  afterAll(() => {
    // Only when a step failed before down: leave the guest clean for whatever runs next.
    if (existsSync(projectDir) || existsSync(join('/run/zonectl', project))) zonectl('down', '-v');
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it("up creates both zones, running, with their network, and leaves nothing in the cgroup of whoever ran it", () => {
    // run from a cgroup of its own, as a systemd service would be: what is left there when the
    // service ends is killed, and nothing of the zones may be (their supervisors included)
    const caller = join(TOP, `${project}.caller`); // a dot: never taken for a project
    mkdirSync(caller, { recursive: true });
    let out: string;
    try {
      const r = spawnSync('sh', ['-c', `echo $$ > ${caller}/cgroup.procs && exec "$@"`, 'sh', process.execPath, bin, 'up', '-f', file], { encoding: 'utf8', timeout: 150_000 });
      if (r.status !== 0) throw new Error(`zonectl up: exit ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      out = r.stdout;
      console.log(out.replace(/\n+$/, ''));
      expect(control(join(caller, 'cgroup.procs'))).toBe('');
    } finally {
      for (const pid of parsePids(control(join(caller, 'cgroup.procs')))) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && control(join(caller, 'cgroup.procs')) !== ''; i++) spawnSync('sleep', ['0.05']);
      rmdirSync(caller);
    }
    expect(out).toMatch(new RegExp(`project ${project}: 4 to add, 0 to change, 0 to replace, 0 to destroy`));
    // every limit applied: an absent control file (a controller not enabled) says "infeasible"
    expect(out).not.toMatch(/infeasible/);
    const rows = ps();
    expect([...rows.keys()].sort()).toEqual(['hog', 'steady']);
    for (const zone of ['hog', 'steady']) runningPid(zone);
    expect(links()).toContain(bridgeName(project, 'lan'));
    expect(nftTables()).toContain(tableName(project));
    // bandwidth on steady: a tbf at the root of its host-side veth (toward the zone)
    const tc = spawnSync('tc', ['qdisc', 'show', 'dev', vethHostName(project, 'steady', 'lan')], { encoding: 'utf8' });
    expect(tc.status, tc.stderr).toBe(0);
    expect(tc.stdout).toMatch(/qdisc tbf .* root .*rate 20Mbit/);
    expect(tc.stdout).toMatch(/qdisc clsact /);
  });

  it('puts each zone in /sys/fs/cgroup/zonectl/PROJECT/ZONE with its limits, controllers enabled down the path', () => {
    for (const d of [ROOT, TOP, projectDir]) {
      const enabled = control(join(d, 'cgroup.subtree_control')).split(' ');
      expect({ dir: d, enabled: ['cpu', 'memory', 'pids'].filter((c) => enabled.includes(c)) }).toEqual({ dir: d, enabled: ['cpu', 'memory', 'pids'] });
    }
    const want = {
      steady: { 'memory.max': String(64 * MiB), 'pids.max': '32', 'cpu.max': '50000 100000' },
      hog: { 'memory.max': String(32 * MiB), 'pids.max': '16', 'cpu.max': '25000 100000' },
    };
    for (const [zone, files] of Object.entries(want)) {
      const got = Object.fromEntries(Object.keys(files).map((f) => [f, control(join(zoneDir(zone), f))]));
      expect({ zone, ...got }).toEqual({ zone, ...files });
    }
  });

  it('runs the zone processes in their leaves, none in the inner nodes (no-internal-processes), and their supervisors beside the project', () => {
    for (const zone of ['steady', 'hog']) {
      const pid = runningPid(zone);
      expect(parsePids(control(join(zoneDir(zone), 'cgroup.procs')))).toContain(pid);
      expect(control(`/proc/${pid}/cgroup`)).toBe(`0::/zonectl/${project}/${zone}`);
      const supervisor = Number(/^PPid:\s+(\d+)/m.exec(control(`/proc/${pid}/status`))?.[1]);
      expect(control(`/proc/${supervisor}/cgroup`)).toBe(`0::/zonectl/${project}.supervisors`);
    }
    expect(control(join(TOP, 'cgroup.procs'))).toBe('');
    expect(control(join(projectDir, 'cgroup.procs'))).toBe('');
  });

  it('applies a hot limit change through up in place: memory.max changes, the pid does not', () => {
    const before = runningPid('steady');
    writeFileSync(file, zonesFile('96M'));
    const out = ok('up');
    expect(out).toMatch(new RegExp(`project ${project}: 0 to add, 1 to change, 0 to replace, 0 to destroy`));
    expect(out).toMatch(/steady: updated in place/);
    expect(out).not.toMatch(/infeasible/);
    expect(control(join(zoneDir('steady'), 'memory.max'))).toBe(String(96 * MiB));
    expect(runningPid('steady')).toBe(before);
    expect(control(join(zoneDir('hog'), 'memory.max'))).toBe(String(32 * MiB));
  });

  it('stats shows real usage from the kernel', () => {
    const s = stats();
    for (const zone of ['steady', 'hog']) {
      const row = s.get(zone);
      expect(row, `stats row for ${zone}`).toBeDefined();
      expect(row!.memory.current, `${zone} memory.current`).toBeGreaterThan(0);
      expect(row!.pids.current, `${zone} pids.current`).toBeGreaterThanOrEqual(1);
      expect(row!.memory.oom_kills).toBe(0);
    }
    expect(s.get('steady')!.memory.limit).toBe(96 * MiB);
    expect(s.get('steady')!.pids.limit).toBe(32);
  });

  it('OOM-kills inside one zone only, and counts it', () => {
    const steady = runningPid('steady');
    // 64 MiB into the zone's /tmp (a tmpfs: its pages are charged to the zone) under a 32 MiB
    // cap, with no swap in the guest: the kernel OOM-kills in the zone's cgroup.
    const r = zonectl('exec', 'hog', '--', 'sh', '-c', 'head -c 64M /dev/zero > /tmp/fill');
    console.log(`zonectl exec hog (allocating 64M under a 32M cap): exit ${r.status}, stderr: ${r.stderr.trim()}`);
    expect(r.status).not.toBe(0);
    const events = parseFlatKeyed(control(join(zoneDir('hog'), 'memory.events')));
    expect(events.get('oom_kill')).toBeGreaterThanOrEqual(1);
    expect(parseFlatKeyed(control(join(zoneDir('steady'), 'memory.events'))).get('oom_kill')).toBe(0);
    // contained: the other zone runs on, the same process
    expect(runningPid('steady')).toBe(steady);
    expect(alive(steady)).toBe(true);
    const s = stats();
    expect(s.get('hog')!.memory.oom_kills).toBeGreaterThanOrEqual(1);
    expect(s.get('steady')!.memory.oom_kills).toBe(0);
  });

  it('down -v leaves nothing: no cgroups, links, run dir, layers, nft table or processes', () => {
    ps(); // the last pids seen
    ok('down', '-v');
    expect(existsSync(projectDir)).toBe(false);
    expect(existsSync(`${projectDir}.supervisors`)).toBe(false);
    if (!topExisted) expect(existsSync(TOP)).toBe(false);
    expect(links().filter((n) => n.startsWith(IFNAME_PREFIX))).toEqual([]);
    expect(existsSync(join('/run/zonectl', project))).toBe(false);
    expect(existsSync(join('/var/lib/zonectl/projects', project))).toBe(false);
    expect(nftTables()).not.toContain(tableName(project));
    expect([...pidsSeen].filter(alive)).toEqual([]);
    expect(processesInProject()).toEqual([]);
  });
});
