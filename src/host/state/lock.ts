// The project lock: an exclusive flock(2) on RUN/PROJECT/lock, held for the length of an
// apply. The kernel drops it when the holder dies, so a crash never leaves a stale lock.
// Read-only commands never take it.

import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, tryFlock } from '../../native/index.js';
import { HostError, errnoCode } from '../errors.js';

export interface ProjectLock {
  release(): void;
}

/**
 * Takes the lock at `path`, waiting while another run holds it; `onWait` is told the
 * holder's pid (as it recorded it) before waiting.
 */
export async function lockFile(path: string, onWait?: (holderPid: number | null) => void): Promise<ProjectLock> {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    fd = openSync(path, 'a+', 0o600);
  } catch (err) {
    throw new HostError(`open lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
  }
  try {
    if (!tryFlock(fd)) {
      onWait?.(holderOf(path));
      await flock(fd);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    closeSync(fd);
    throw new HostError(`lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      closeSync(fd); // closing the last descriptor releases the flock
    },
  };
}

function holderOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // the holder may be writing it right now: the pid is only for the message
  }
}
