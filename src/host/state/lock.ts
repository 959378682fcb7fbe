// The project lock: an exclusive flock(2) on RUN/PROJECT/lock, held for the length of an
// apply. The kernel drops it when the holder dies, so a crash never leaves a stale lock.
// Read-only commands never take it.

import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, tryFlock } from '../../native/index.js';
import { HostError, errnoCode } from '../errors.js';

export interface ProjectLock {
  release(): void;
  /** Deletes the lock file, then releases it (`down`: nothing of the project is left). */
  removeAndRelease(): void;
}

/**
 * Takes the lock at `path`, waiting while another run holds it; `onWait` is told the
 * holder's pid (as it recorded it) before waiting.
 */
export async function lockFile(path: string, onWait?: (holderPid: number | null) => void): Promise<ProjectLock> {
  let fd: number;
  for (let told = false; ; ) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      fd = openSync(path, 'a+', 0o600);
    } catch (err) {
      throw new HostError(`open lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
    }
    try {
      if (!tryFlock(fd)) {
        if (!told) onWait?.(holderOf(path));
        told = true;
        await flock(fd);
      }
    } catch (err) {
      closeSync(fd);
      throw new HostError(`lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
    }
    // The holder may have deleted the file (down) before releasing it: then this lock is on
    // a file nobody else will open. Start again on the file that is there now.
    if (sameFile(fd, path)) break;
    closeSync(fd);
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    closeSync(fd);
    throw new HostError(`lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    closeSync(fd); // closing the last descriptor releases the flock
  };
  return {
    release,
    removeAndRelease() {
      if (held) rmSync(path, { force: true });
      release();
    },
  };
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false; // the file is gone: take the new one
  }
}

function holderOf(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // the holder may be writing it right now: the pid is only for the message
  }
}
