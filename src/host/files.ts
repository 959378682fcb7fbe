// Small files and directories of zonectl's own, synchronously: under /run/zonectl (a tmpfs:
// state/volatile.ts) a system call costs microseconds, where a round trip through libuv's
// 4-thread pool costs ~0.3 ms on a busy host, and a start made a dozen on its critical path.

import { mkdirSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { HostError, errnoCode } from './errors.js';

/**
 * `content` into `file` through `file.tmp` and a rename, so that a reader sees the old file or
 * the new one, never part of it. `dirMode`: make the directory first (with its parents).
 */
export function writeFileAtomic(file: string, content: string | Buffer, opts: { mode: number; dirMode?: number }): void {
  const tmp = `${file}.tmp`;
  try {
    if (opts.dirMode !== undefined) mkdirSync(dirname(file), { recursive: true, mode: opts.dirMode });
    writeFileSync(tmp, content, { mode: opts.mode });
    renameSync(tmp, file);
  } catch (err) {
    throw new HostError(`write ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: file });
  }
}

/** Removes `dir` if it is empty; nothing when it is not there or holds something. */
export function removeDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw new HostError(`remove ${dir}: ${code ?? String(err)}`, { cause: err, path: dir });
  }
}

/**
 * Removes `file`; nothing when it is not there. unlink, not rmSync: rmSync's first call loads
 * Node's rimraf module (~1 ms of a cold up, for one file).
 */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT') throw new HostError(`remove ${file}: ${code ?? String(err)}`, { cause: err, path: file });
  }
}
