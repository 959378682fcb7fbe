// zonectl's run directory (/run/zonectl) holds what must not outlive a reboot: records of
// processes, pinned namespaces, locks. It relies on /run being a tmpfs, as it is on any host
// booted by systemd. Where it is not (a VM or container started without it), the records
// would survive a reboot and every one of them would cost a disk inode: on a journal-less
// ext4, each inode allocation scans past the inodes deleted in the last minutes, which took
// 20-40% of the CPU of an up of 100 zones on such a host. There zonectl mounts a tmpfs of its
// own on the directory, once, while it is still empty, and leaves it (like /run itself).

import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { flock, mountTmpfs } from '../../native/index.js';
import { HostError, errnoCode } from '../errors.js';

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

async function inMemory(dir: string): Promise<boolean> {
  for (let p = dir; ; p = dirname(p)) {
    try {
      const t = (await statfs(p)).type;
      return t === TMPFS_MAGIC || t === RAMFS_MAGIC;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || p === dirname(p)) throw new HostError(`statfs ${p}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: p });
    }
  }
}

/**
 * Makes `dir` a tmpfs unless it is in memory already; one that is not but already holds
 * state (of runs before this version) is left as it is. Returns what it found or did.
 */
export async function ensureVolatile(dir: string): Promise<'in memory' | 'mounted' | 'in use on disk'> {
  if (await inMemory(dir)) return 'in memory';
  // One process decides, the others wait and find the tmpfs: `DIR.lock` beside it (the
  // directory itself is about to be covered).
  const lockPath = `${dir}.lock`;
  let fd: number;
  try {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    fd = openSync(lockPath, 'a+', 0o600);
  } catch (err) {
    throw new HostError(`open ${lockPath}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: lockPath });
  }
  try {
    await flock(fd);
    if (await inMemory(dir)) return 'in memory';
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (readdirSync(dir).length > 0) return 'in use on disk';
    mountTmpfs(dir, 'mode=755');
    return 'mounted';
  } catch (err) {
    throw err instanceof HostError ? err : new HostError(`mount a tmpfs on ${dir}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: dir });
  } finally {
    closeSync(fd); // releases the flock
  }
}
