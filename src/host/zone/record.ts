// The supervisor's record (native/helper/record.c): `key=value` lines, replaced atomically.
// Pids are trusted only together with their start time (/proc/PID/stat field 22).
//
// Both files are read synchronously: the record lives on /run (tmpfs) and /proc/PID/stat is
// made by the kernel on read, so neither ever waits for a disk (a few µs), while an async
// readFile is four hops through libuv's 4-thread pool; observing 100 zones made ~1,200 of them.

import { readFileSync } from 'node:fs';

import { readText } from '../../native/index.js';

export interface SupervisorRecord {
  state: 'starting' | 'running' | 'restarting' | 'exited';
  supervisorPid: number;
  supervisorStart: string;
  /** 0 when the zone is not running. */
  initPid: number;
  initStart: string;
  /** ms since the epoch; 0 before the first exec. */
  startedAt: number;
  /** -1: none yet. */
  exitCode: number;
  restarts: number;
  error: string | null;
}

const STATES = new Set(['starting', 'running', 'restarting', 'exited']);

export function parseRecord(text: string): SupervisorRecord | null {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const num = (k: string): number => Number.parseInt(kv.get(k) ?? '', 10);
  const state = kv.get('state');
  if (state === undefined || !STATES.has(state)) return null;
  const r: SupervisorRecord = {
    state: state as SupervisorRecord['state'],
    supervisorPid: num('supervisor_pid'),
    supervisorStart: kv.get('supervisor_start') ?? '',
    initPid: num('init_pid'),
    initStart: kv.get('init_start') ?? '',
    startedAt: num('started_at'),
    exitCode: num('exit_code'),
    restarts: num('restarts'),
    error: kv.get('error') ?? null,
  };
  if ([r.supervisorPid, r.initPid, r.startedAt, r.exitCode, r.restarts].some((n) => Number.isNaN(n))) return null;
  return r;
}

export async function readRecord(path: string): Promise<SupervisorRecord | null> {
  try {
    return parseRecord(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Field 22 of /proc/PID/stat, or null when there is no such process. */
export async function processStartTime(pid: number): Promise<string | null> {
  if (!(pid > 0)) return null;
  try {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === null) return null;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 3 is fields[0]
  } catch {
    return null; // gone (ENOENT/ESRCH): not running
  }
}

/** The process `pid` is alive and is the one recorded (not a reused pid). */
export async function isSameProcess(pid: number, start: string): Promise<boolean> {
  return pid > 0 && start !== '' && (await processStartTime(pid)) === start;
}
