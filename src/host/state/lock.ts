// The project lock: an exclusive flock(2) on RUN/PROJECT/lock, held for the length of an
// apply. The kernel drops it when the holder dies, so a crash never leaves a stale lock.
// Read-only commands never take it. `up --watch` also holds RUN/PROJECT/watch.lock (tryLockFile)
// for as long as it watches, so that a second watcher on the project is refused.

import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, tryFlock } from '../../native/index.js';
import { HostError, errnoCode } from '../errors.js';
import { removeFile } from '../files.js';

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
  return held(fd, path);
}

/**
 * Takes the lock at `path` if nobody holds it; null when another process does (`up --watch`
 * refuses to run twice on one project instead of waiting).
 */
export function tryLockFile(path: string): ProjectLock | null {
  for (;;) {
    let fd: number;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      fd = openSync(path, 'a+', 0o600);
    } catch (err) {
      throw new HostError(`open lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
    }
    let got: boolean;
    try {
      got = tryFlock(fd);
    } catch (err) {
      closeSync(fd);
      throw new HostError(`lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
    }
    if (!got) {
      closeSync(fd);
      return null;
    }
    // As in lockFile: the previous holder may have deleted the file before releasing it.
    if (sameFile(fd, path)) return held(fd, path);
    closeSync(fd);
  }
}

/** The pid the holder of the lock at `path` recorded, if it can be read. */
export function lockHolder(path: string): number | null {
  return holderOf(path);
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

/** Records this process as the holder of the lock on `fd`, and hands out its release. */
function held(fd: number, path: string): ProjectLock {
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    closeSync(fd);
    throw new HostError(`lock ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
  }
  let holding = true;
  const release = (): void => {
    if (!holding) return;
    holding = false;
    closeSync(fd); // closing the last descriptor releases the flock
  };
  return {
    release,
    removeAndRelease() {
      if (holding) removeFile(path);
      release();
    },
  };
}
