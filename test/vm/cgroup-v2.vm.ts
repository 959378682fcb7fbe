// cgroup v2 for real: the CgroupDriver contract suite, and the v2 kernel facts zonectl relies
// on, checked on the unified hierarchy at /sys/fs/cgroup of the guest that test/vm/run-v2.sh
// boots (cgroup_no_v1=all). Each check reads its result back from the kernel.
//
// This file runs only there (test/vm/vitest.config.ts; the default run never includes
// *.vm.ts). Anywhere else it refuses to load, before touching any cgroup.

import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CgroupDriver } from '../../src/host/cgroup/driver.js';
import { parseCpuList, parseFlatKeyed, parsePids } from '../../src/host/cgroup/format.js';
import type { CgroupFs } from '../../src/host/cgroup/fs.js';
import { nodeCgroupFs } from '../../src/host/cgroup/fs.js';
import { createCgroupDriver, layoutOf } from '../../src/host/cgroup/index.js';
import { V2_CONTROLLERS } from '../../src/host/cgroup/v2.js';
import { pollUntil } from '../../src/host/cgroup/wait.js';
import { HostError } from '../../src/host/errors.js';
import { cgroupContract } from '../host/cgroup/contract.js';
import { limits, MiB, neutral } from '../host/cgroup/fixtures.js';

const ROOT = '/sys/fs/cgroup';
const TOP = join(ROOT, 'zonectl');

const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
const layout = layoutOf(mountinfo);
if (layout.mode !== 'unified' || process.getuid?.() !== 0) {
  throw new Error(
    `test/vm/cgroup-v2.vm.ts runs only as root on a cgroup v2 (unified) host, such as the guest of test/vm/run-v2.sh; here the layout is ${layout.mode} and the uid ${process.getuid?.()}`,
  );
}

/** A child process started by a test; it waits for `go()` before running its script. */
interface Child {
  pid: number;
  go(): void;
  /** Resolves when it has exited: its exit code or the signal that killed it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<number>();

/**
 * `sh -c SCRIPT`, held at a `read` until go(): the test moves it into a zone first, so that
 * all the script does happens inside the zone. stdout/stderr are not inherited (a background
 * grandchild holding a pipe would keep the test waiting).
 */
async function startHeld(script: string): Promise<Child> {
  const child = spawn('/bin/sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`spawn sh -c ${script}: no pid`);
  running.add(pid);
  void exit.then(() => running.delete(pid));
  return { pid, exit, go: () => child.stdin?.end('\n') };
}

function killRunning(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone (ESRCH): nothing to clean up
    }
  }
}

async function controlFile(dir: string, file: string): Promise<string> {
  return (await readFile(join(dir, file), 'utf8')).trim();
}

async function onlineCpus(): Promise<number[]> {
  const file = '/sys/devices/system/cpu/online';
  return parseCpuList(await readFile(file, 'utf8'), file);
}

// --- the contract suite, on the real hierarchy -------------------------------------------

cgroupContract(`real cgroup v2 hierarchy at ${ROOT}`, async () => ({
  driver: await createCgroupDriver(),
  project: 'vm-contract',
  cpus: await onlineCpus(),
  services: [], // one hierarchy holds both
  spawn: async () => {
    const child = await startHeld('exec sleep 600');
    return child.pid;
  },
  cleanup: async () => killRunning(),
}));

// --- what only a real v2 kernel can show ---------------------------------------------------

describe('cgroup v2 kernel facts', () => {
  const project = 'vm-v2';
  const projectDir = join(TOP, project);
  /** Every control-file write the driver makes, in order. */
  const writes: { path: string; value: string }[] = [];
  const recordingFs: CgroupFs = {
    ...nodeCgroupFs,
    write: async (path, value) => {
      writes.push({ path, value });
      await nodeCgroupFs.write(path, value);
    },
  };
  let d: CgroupDriver;

  beforeAll(async () => {
    d = await createCgroupDriver({ fs: recordingFs });
    const report = await d.ensureProject(project, neutral());
    expect(report.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
  });
  afterEach(async () => {
    for (const zone of await d.list(project)) await d.remove(project, zone);
    killRunning();
  });
  afterAll(async () => {
    await d.removeProject(project);
  });

  it('detects the unified layout at /sys/fs/cgroup and picks the v2 driver', () => {
    expect(layout).toEqual({ mode: 'unified', unified: ROOT });
    expect(d.version).toBe(2);
  });

  it('enables every zonectl controller in cgroup.subtree_control down the path to a zone', async () => {
    await d.create(project, 'path');
    for (const dir of [ROOT, TOP, projectDir]) {
      const enabled = (await controlFile(dir, 'cgroup.subtree_control')).split(' ');
      expect({ dir, enabled: V2_CONTROLLERS.filter((c) => enabled.includes(c)) }).toEqual({ dir, enabled: [...V2_CONTROLLERS] });
    }
    // What the zone's cgroup can use is exactly what its parent enabled.
    const available = (await controlFile(join(projectDir, 'path'), 'cgroup.controllers')).split(' ');
    expect(V2_CONTROLLERS.filter((c) => available.includes(c))).toEqual([...V2_CONTROLLERS]);
  });

  it('keeps processes in the zone leaves only: the kernel refuses one at the project level (EBUSY)', async () => {
    await d.create(project, 'leaf');
    const child = await startHeld('exec sleep 600');
    await d.addProcess(project, 'leaf', child.pid);
    expect(parsePids(await controlFile(join(projectDir, 'leaf'), 'cgroup.procs'))).toEqual([child.pid]);
    expect(await controlFile(TOP, 'cgroup.procs')).toBe('');
    expect(await controlFile(projectDir, 'cgroup.procs')).toBe('');
    // no-internal-processes: a cgroup with controllers enabled for its children holds no process.
    const err = await nodeCgroupFs.write(join(projectDir, 'cgroup.procs'), String(child.pid)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).code).toBe('EBUSY');
    expect(await controlFile(projectDir, 'cgroup.procs')).toBe('');
  });

  it('removes a zone whose processes keep forking with one write to cgroup.kill', async () => {
    await d.create(project, 'forky');
    const child = await startHeld('while :; do sleep 600 & sleep 0.1; done');
    await d.addProcess(project, 'forky', child.pid);
    child.go();
    const zone = join(projectDir, 'forky');
    expect(await pollUntil(async () => Number(await controlFile(zone, 'pids.current')) >= 4, 30_000, 100)).toBe(true);
    const first = writes.length;
    await d.remove(project, 'forky');
    expect(writes.slice(first).filter((w) => w.path.endsWith('/cgroup.kill'))).toEqual([{ path: join(zone, 'cgroup.kill'), value: '1' }]);
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await d.list(project)).not.toContain('forky');
  });

  it('OOM-kills inside the zone only and counts it in memory.events', async () => {
    await d.create(project, 'oom');
    const report = await d.apply(project, 'oom', limits({ memory: 64 * MiB, memory_swap: 0 }));
    expect(report.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    // Filled 4 MiB buffers (Buffer.alloc with a fill value touches every page) until killed.
    const child = await startHeld(`exec ${process.execPath} -e 'const a = []; for (;;) a.push(Buffer.alloc(4 << 20, 1))'`);
    await d.addProcess(project, 'oom', child.pid);
    child.go();
    expect(await child.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const events = parseFlatKeyed(await controlFile(join(projectDir, 'oom'), 'memory.events'));
    expect(events.get('oom_kill')).toBe(1);
    expect((await d.usage(project, 'oom')).memory.oom_kills).toBe(1);
    expect(Number(await controlFile(join(projectDir, 'oom'), 'memory.max'))).toBe(64 * MiB);
  });

  it('stops forks at pids.max and counts the refusals in pids.events', async () => {
    await d.create(project, 'pids');
    await d.apply(project, 'pids', limits({ pids: 8 }));
    // dash gives up at the first failed fork; without the limit the loop would end by itself.
    const child = await startHeld('i=0; while [ $i -lt 20 ]; do sleep 600 & i=$((i + 1)); done');
    await d.addProcess(project, 'pids', child.pid);
    child.go();
    await child.exit;
    const zone = join(projectDir, 'pids');
    expect(parseFlatKeyed(await controlFile(zone, 'pids.events')).get('max')).toBeGreaterThan(0);
    const usage = await d.usage(project, 'pids');
    expect(usage.pids.limit).toBe(8);
    expect(usage.pids.current).toBeLessThanOrEqual(8);
    expect(usage.pids.current).toBeGreaterThan(0);
  });

  it('throttles a busy loop under cpus 0.1 (cpu.max 10000 100000)', async () => {
    await d.create(project, 'busy');
    await d.apply(project, 'busy', limits({ cpus: { quota_us: 10_000, period_us: 100_000 } }));
    expect(await controlFile(join(projectDir, 'busy'), 'cpu.max')).toBe('10000 100000');
    const child = await startHeld('while :; do :; done');
    await d.addProcess(project, 'busy', child.pid);
    child.go();
    await sleep(1000);
    const { cpu } = await d.usage(project, 'busy');
    expect(cpu.periods).toBeGreaterThan(0);
    expect(cpu.throttled_periods).toBeGreaterThan(0);
  });
});

// Leak check: every suite above removed its project. The driver removes TOP itself with the
// last project, so its absence is the clean outcome.
afterAll(async () => {
  const entries = await readdir(TOP, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  expect(entries.filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([]);
});
