// Emptying and removing cgroups, shared by both drivers: list the processes of a subtree,
// SIGKILL them (frozen first when a freezer is at hand, so nothing forks in between),
// and rmdir the directories bottom-up, retrying EBUSY for a bounded time.

import { join } from 'node:path';
import { errnoCode, HostError } from '../errors.js';
import type { CgroupFs } from './fs.js';
import { parsePids } from './format.js';
import { pollUntil } from './wait.js';

/** Sends a signal to one PID; ESRCH (already gone) is not an error. */
export type Signaller = (pid: number, signal: 'SIGKILL') => void;

export const hostSignaller: Signaller = (pid, signal) => {
  try {
    process.kill(pid, signal);
  } catch (cause) {
    // The process exited between reading cgroup.procs and the kill: that is the goal.
    if (errnoCode(cause) === 'ESRCH') return;
    throw new HostError(`kill ${signal} ${pid}: ${errnoCode(cause) ?? String(cause)}`, { cause });
  }
};

/** Directories of the subtree below `dir`, deepest first, `dir` last. */
export async function subtreeBottomUp(fs: CgroupFs, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const child of await fs.subdirs(dir)) out.push(...(await subtreeBottomUp(fs, join(dir, child))));
  out.push(dir);
  return out;
}

/** PIDs in `dir` and every cgroup below it. */
export async function subtreeProcs(fs: CgroupFs, dir: string): Promise<number[]> {
  if (!(await fs.exists(dir))) return [];
  const pids = new Set<number>();
  for (const d of await subtreeBottomUp(fs, dir)) for (const p of parsePids(await fs.read(join(d, 'cgroup.procs')))) pids.add(p);
  return [...pids].sort((a, b) => a - b);
}

export interface KillPlan {
  /** Every directory (across hierarchies) whose processes must die. */
  dirs: string[];
  /** Freeze and thaw the cgroup, when the host can; the kill happens while frozen. */
  freeze?: () => Promise<void>;
  thaw?: () => Promise<void>;
  signal: Signaller;
  timeoutMs: number;
  pollMs: number;
  /** Names the cgroup in the error. */
  name: string;
}

/** SIGKILL loop until the cgroups hold no process; bounded by `timeoutMs`, then a HostError. */
export async function killAll(fs: CgroupFs, plan: KillPlan): Promise<void> {
  const remaining = async (): Promise<number[]> => {
    const all = new Set<number>();
    for (const d of plan.dirs) for (const p of await subtreeProcs(fs, d)) all.add(p);
    return [...all];
  };
  const empty = await pollUntil(
    async () => {
      const pids = await remaining();
      if (pids.length === 0) return true;
      await plan.freeze?.();
      try {
        for (const pid of pids) plan.signal(pid, 'SIGKILL');
      } finally {
        await plan.thaw?.();
      }
      return false;
    },
    plan.timeoutMs,
    plan.pollMs,
  );
  if (!empty) {
    const left = await remaining();
    if (left.length > 0) throw new HostError(`kill processes of ${plan.name}: ${left.length} still running after ${plan.timeoutMs} ms (pids ${left.slice(0, 10).join(' ')})`, { code: 'EBUSY' });
  }
}

/** rmdir the subtree of `dir` bottom-up; EBUSY (tasks still exiting) is retried until `timeoutMs`. */
export async function removeTree(fs: CgroupFs, dir: string, timeoutMs: number, pollMs: number): Promise<void> {
  if (!(await fs.exists(dir))) return;
  for (const d of await subtreeBottomUp(fs, dir)) {
    let last: unknown;
    const gone = await pollUntil(
      async () => {
        try {
          await fs.rmdir(d);
          return true;
        } catch (err) {
          if (errnoCode(err) === 'ENOENT') return true;
          if (!(err instanceof HostError) || err.code !== 'EBUSY') throw err;
          last = err;
          return false;
        }
      },
      timeoutMs,
      pollMs,
    );
    if (!gone) throw new HostError(`rmdir ${d}: EBUSY (still busy after ${timeoutMs} ms)`, { cause: last, path: d, code: 'EBUSY' });
  }
}

/**
 * Removes a project's supervisors' cgroup, `dir`. Its supervisors exit once their zones are
 * stopped; one still there at the project's removal is left over, and is killed: nothing of a
 * project outlives its down.
 */
export async function removeSupervisors(fs: CgroupFs, signal: Signaller, dir: string, timeoutMs: number, pollMs: number): Promise<void> {
  for (const pid of await subtreeProcs(fs, dir)) signal(pid, 'SIGKILL');
  await removeTree(fs, dir, timeoutMs, pollMs);
}

/**
 * Removes zonectl's top-level cgroup once no project is left in it, so that `down` of the
 * last project leaves nothing. Another project being created at that moment keeps it
 * (ENOTEMPTY, EBUSY): that is not a failure.
 */
export async function removeTopIfEmpty(fs: CgroupFs, dir: string): Promise<void> {
  if (!(await fs.exists(dir)) || (await fs.subdirs(dir)).length > 0) return;
  try {
    await fs.rmdir(dir);
  } catch (err) {
    const code = err instanceof HostError ? err.code : errnoCode(err);
    if (code !== 'ENOTEMPTY' && code !== 'EBUSY' && code !== 'ENOENT') throw err;
  }
}
