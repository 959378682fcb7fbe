// Throwaway network namespaces for tests: each is held by an `unshare --net sleep` process this
// test spawned, and dies with it. Only those PIDs are ever killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrowawayNetns {
  pid: number;
  /** /proc/PID/ns/net */
  path: string;
  kill(): void;
}

const held = new Set<ChildProcess>();

export async function throwawayNetns(): Promise<ThrowawayNetns> {
  const child = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
  held.add(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn unshare --net: no pid');
  const path = `/proc/${pid}/ns/net`;
  const mine = readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 200; i++) {
    let theirs = '';
    try {
      theirs = readlinkSync(path);
    } catch {
      // not there yet: the process is still starting
    }
    if (theirs !== '' && theirs !== mine) {
      return { pid, path, kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); held.delete(child); } };
    }
    await sleep(5);
  }
  child.kill('SIGKILL');
  throw new Error(`unshare --net (pid ${pid}) did not enter a new network namespace`);
}

/** Kill every namespace holder still alive (afterEach/afterAll). */
export function killAllThrowaway(): void {
  for (const c of held) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  held.clear();
}
