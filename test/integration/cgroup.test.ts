// The cgroup driver against this machine's real cgroups (as root). Each test names the kernel
// fact it checks and reads it back from the kernel. Everything lives under
// zonectl/zt-cg-RANDOM in each hierarchy; only processes spawned here are killed, by PID;
// the suite ends with a leak check.

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { CgroupDriver } from '../../src/host/cgroup/driver.js';
import { serviceHierarchies } from '../../src/host/cgroup/detect.js';
import { createCgroupDriver, layoutOf } from '../../src/host/cgroup/index.js';
import { errnoCode } from '../../src/host/errors.js';
import { cgroupContract } from '../host/cgroup/contract.js';
import { limits, MiB, neutral } from '../host/cgroup/fixtures.js';
import { describeRoot, isRoot } from '../helpers/root.js';

const project = `zt-cg-${randomBytes(4).toString('hex')}`;
const contractProject = `${project}-contract`;

/** Every cgroup hierarchy zonectl makes cgroups in here (v1 controllers and trackers, or the unified one). */
function hierarchies(): string[] {
  const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
  return layout.mode === 'unified' ? [layout.unified] : [...new Set([...Object.values(layout.v1), ...serviceHierarchies(layout)])];
}
/** zonectl/ tops that existed before this suite: only those it created may it remove. */
const topsBefore = isRoot ? hierarchies().filter((h) => existsSync(join(h, 'zonectl'))) : [];

const children = new Set<ChildProcess>();

interface Spawned {
  child: ChildProcess;
  pid: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

function start(argv: string[]): Spawned {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error(`spawn ${argv.join(' ')} failed`);
  return { child, pid: child.pid, exit, output: () => out };
}

function go(s: Spawned): void {
  s.child.stdin?.write('go\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return false;
    throw err;
  }
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = sleep(ms).then(() => {
    throw new Error(`${what}: not within ${ms} ms`);
  });
  return Promise.race([p, timeout]);
}

/** Allocates and touches `mib` MiB, one MiB at a time, after reading a line; then holds it. */
function allocator(mib: number, hold: boolean): string[] {
  const script = `process.stdin.once('data', () => { const a = []; for (let i = 0; i < ${mib}; i++) { const b = Buffer.alloc(1 << 20); b.fill(1); a.push(b); } console.log('allocated ${mib}'); ${hold ? 'setInterval(() => a.length, 1000);' : 'process.exit(0);'} });`;
  return [process.execPath, '-e', script];
}

describeRoot('cgroup driver on this machine', () => {
  let d: CgroupDriver;
  const file = (controller: string, zone: string, name: string): string => {
    const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
    const mount = layout.mode === 'unified' ? layout.unified : layout.v1[controller as keyof typeof layout.v1];
    if (mount === undefined) throw new Error(`no ${controller} hierarchy`);
    return join(mount, 'zonectl', project, zone, name);
  };
  const kernel = (controller: string, zone: string, name: string): string => readFileSync(file(controller, zone, name), 'utf8').trim();

  beforeAll(async () => {
    d = await createCgroupDriver({ timings: { reclaimTimeoutMs: 1000 } });
    await d.ensureProject(project, neutral());
  });

  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    children.clear();
    for (const zone of await d.list(project)) await d.remove(project, zone);
  });

  afterAll(async () => {
    await d.removeProject(project);
  });

  it('detects the layout: a hybrid host (v1 controllers + empty cgroup2) gets the v1 driver', () => {
    const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(d.version).toBe(layout.mode === 'unified' ? 2 : 1);
  });

  it('memory: a process allocating past the cap is OOM-killed; the count shows in usage; others live', async () => {
    await d.create(project, 'oom');
    await d.create(project, 'calm');
    await d.create(project, 'free');
    expect((await d.apply(project, 'oom', limits({ memory: 48 * MiB }))).outcomes.every((o) => o.status === 'applied')).toBe(true);

    const bystander = start(['sleep', '60']);
    await d.addProcess(project, 'calm', bystander.pid);
    // Control: the same allocation without a cap survives (the check can fail).
    const control = start(allocator(128, false));
    await d.addProcess(project, 'free', control.pid);
    go(control);
    expect(await within(control.exit, 20_000, 'uncapped allocator')).toEqual({ code: 0, signal: null });

    const hog = start(allocator(128, false));
    await d.addProcess(project, 'oom', hog.pid);
    go(hog);
    const { signal } = await within(hog.exit, 20_000, 'capped allocator');
    expect(signal).toBe('SIGKILL');
    expect(hog.output()).not.toContain('allocated');
    const usage = await d.usage(project, 'oom');
    expect(usage.memory.oom_kills).toBeGreaterThanOrEqual(1);
    expect(usage.memory.peak ?? 0).toBeGreaterThan(40 * MiB);
    expect((await d.usage(project, 'free')).memory.oom_kills).toBe(0);
    expect(alive(bystander.pid)).toBe(true);
    expect(await d.procs(project, 'calm')).toEqual([bystander.pid]);
  });

  it('pids: a fork loop stops at pids.max', async () => {
    await d.create(project, 'forky');
    await d.apply(project, 'forky', limits({ pids: 16 }));
    const loop = start(['sh', '-c', 'read x; i=0; while [ $i -lt 64 ]; do sleep 30 & i=$((i+1)); done; wait']);
    await d.addProcess(project, 'forky', loop.pid);
    go(loop);
    await sleep(1500);
    const usage = await d.usage(project, 'forky');
    expect(usage.pids.limit).toBe(16);
    expect(usage.pids.current).toBeLessThanOrEqual(16);
    expect(usage.pids.current).toBeGreaterThanOrEqual(10);
    // The kernel counted refused forks.
    expect(Number(/max\s+([0-9]+)/.exec(kernel('pids', 'forky', 'pids.events'))?.[1])).toBeGreaterThan(0);
    // Control: without the cap, all 64 exist.
    await d.create(project, 'forky-free');
    const free = start(['sh', '-c', 'read x; i=0; while [ $i -lt 64 ]; do sleep 30 & i=$((i+1)); done; wait']);
    await d.addProcess(project, 'forky-free', free.pid);
    go(free);
    await sleep(1500);
    expect((await d.usage(project, 'forky-free')).pids.current).toBe(65);
  });

  it('cpus 0.5: a busy loop gets 40-60% of one CPU over 3 s (cpuacct accounting)', async () => {
    await d.create(project, 'busy');
    await d.apply(project, 'busy', limits({ cpus: { quota_us: 50_000, period_us: 100_000 } }));
    expect(kernel('cpu', 'busy', d.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max')).toBe(d.version === 1 ? '50000' : '50000 100000');
    const spin = start(['sh', '-c', 'read x; while :; do :; done']);
    await d.addProcess(project, 'busy', spin.pid);
    go(spin);
    await sleep(300);
    // The machine is shared: another load can starve the loop below its cap. Over the cap
    // fails at once; under it, the window is measured again (at most 3 times).
    const ratios: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const u0 = await d.usage(project, 'busy');
      const t0 = process.hrtime.bigint();
      await sleep(3000);
      const u1 = await d.usage(project, 'busy');
      const t1 = process.hrtime.bigint();
      const ratio = (u1.cpu.usage_ns - u0.cpu.usage_ns) / Number(t1 - t0);
      ratios.push(ratio);
      console.log(`cpus 0.5: busy loop used ${(ratio * 100).toFixed(1)}% of one CPU; throttled in ${u1.cpu.throttled_periods - u0.cpu.throttled_periods} of ${u1.cpu.periods - u0.cpu.periods} periods`);
      expect(ratio).toBeLessThan(0.6);
      if (ratio > 0.4) {
        expect(u1.cpu.throttled_periods).toBeGreaterThan(u0.cpu.throttled_periods);
        break;
      }
    }
    expect(Math.max(...ratios)).toBeGreaterThan(0.4);
  });

  it('cpuset "0" pins the process to CPU 0 (/proc/PID/status Cpus_allowed_list)', async () => {
    const allowed = (pid: number): string => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    await d.create(project, 'pinned');
    expect((await d.apply(project, 'pinned', limits({ cpuset: [0] }))).outcomes.find((o) => o.limit === 'cpuset')?.status).toBe('applied');
    const s = start(['sleep', '60']);
    const before = allowed(s.pid);
    await d.addProcess(project, 'pinned', s.pid);
    expect(allowed(s.pid)).toBe('0');
    // The check can fail: this host has more than CPU 0, and the process had them before.
    expect(before).not.toBe('0');
    expect(kernel('cpuset', 'pinned', 'cpuset.cpus')).toBe('0');
  });

  it('a zone cannot exceed the project\'s cap: v1 refuses a larger quota (EINVAL), reported infeasible', async () => {
    try {
      expect((await d.ensureProject(project, limits({ cpus: { quota_us: 50_000, period_us: 100_000 } }))).outcomes.find((o) => o.limit === 'cpus')?.status).toBe('applied');
      await d.create(project, 'greedy');
      const o = (await d.apply(project, 'greedy', limits({ cpus: { quota_us: 100_000, period_us: 100_000 } }))).outcomes.find((x) => x.limit === 'cpus');
      if (d.version === 1) {
        expect(o?.status).toBe('infeasible');
        expect(o?.reason).toBe(`write 100000 to ${file('cpu', 'greedy', 'cpu.cfs_quota_us')}: EINVAL`);
        expect(kernel('cpu', 'greedy', 'cpu.cfs_quota_us')).toBe('-1');
      } else {
        expect(o?.status).toBe('applied'); // v2 accepts it; the parent's cap still binds
      }
    } finally {
      await d.ensureProject(project, neutral());
    }
  });

  it('memory changes on a running zone take effect in place (same pid); a shrink below usage is deferred', async () => {
    await d.create(project, 'live');
    await d.apply(project, 'live', limits({ memory: 128 * MiB }));
    const s = start(allocator(40, true));
    await d.addProcess(project, 'live', s.pid);
    go(s);
    await within((async () => { while (!s.output().includes('allocated')) await sleep(50); })(), 10_000, 'allocator ready');

    const grow = await d.apply(project, 'live', limits({ memory: 96 * MiB }));
    expect(grow.outcomes.find((o) => o.limit === 'memory')?.status).toBe('applied');
    expect(Number(kernel('memory', 'live', d.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'))).toBe(96 * MiB);
    expect(await d.procs(project, 'live')).toEqual([s.pid]);
    expect(alive(s.pid)).toBe(true);

    // 40 MiB of anonymous memory and no swap: the kernel cannot reclaim to 8 MiB.
    const shrink = await d.apply(project, 'live', limits({ memory: 8 * MiB }));
    const o = shrink.outcomes.find((x) => x.limit === 'memory');
    expect(o?.status).toBe('deferred');
    console.log(`memory shrink below usage: ${o?.status}: ${o?.reason}`);
    expect(Number(kernel('memory', 'live', d.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'))).toBe(96 * MiB);
    expect((await d.read(project, 'live')).memory).toBe(96 * MiB);
    expect(alive(s.pid)).toBe(true);
    expect(await d.procs(project, 'live')).toEqual([s.pid]);
  });
});

describeRoot('cgroup driver contract on this machine', () => {
  cgroupContract('real kernel', async () => {
    const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
    const driver = await createCgroupDriver({ timings: { reclaimTimeoutMs: 500 } });
    const mine = new Set<ChildProcess>();
    const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    return {
      driver,
      project: contractProject,
      cpus: online === '0' ? [0] : [0, 1],
      services: layout.mode === 'unified' ? [] : serviceHierarchies(layout),
      spawn: async () => {
        const c = spawn('sleep', ['60'], { stdio: 'ignore' });
        mine.add(c);
        if (c.pid === undefined) throw new Error('spawn sleep failed');
        return c.pid;
      },
      cleanup: async () => {
        for (const c of mine) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
      },
    };
  });
});

// Leak check, after every suite of this file (the contract suite included): nothing of this
// run is left in any hierarchy; a zonectl/ top this run created is removed if empty.
afterAll(() => {
  if (!isRoot) return;
  for (const h of hierarchies()) {
    expect(existsSync(join(h, 'zonectl', project)), `leaked ${join(h, 'zonectl', project)}`).toBe(false);
    expect(existsSync(join(h, 'zonectl', contractProject)), `leaked ${join(h, 'zonectl', contractProject)}`).toBe(false);
  }
  for (const h of hierarchies()) {
    if (topsBefore.includes(h) || !existsSync(join(h, 'zonectl'))) continue;
    try {
      rmdirSync(join(h, 'zonectl'));
    } catch (err) {
      // Another run's project is in it: it is theirs to remove.
      if (errnoCode(err) !== 'EBUSY' && errnoCode(err) !== 'ENOTEMPTY') throw err;
    }
  }
});
