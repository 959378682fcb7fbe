// zonectl's run directory (/run/zonectl) holds what must not outlive a reboot: records of
// processes, hosts files, locks. It relies on /run being a tmpfs, as it is on any host
// booted by systemd. Where it is not (a VM or container started without it), the records
// would survive a reboot and every one of them would cost a disk inode: on a journal-less
// ext4, each inode allocation scans past the inodes deleted in the last minutes, which took
// 20-40% of the CPU of an up of 100 zones on such a host. There a run that writes records
// holds the directory (holdRunDir): the first mounts a tmpfs named zonectl on it while it is
// empty; the last, finding it empty again, unmounts it. DIR.lock beside it says who is in:
// every holder keeps a shared flock for as long as it runs; mounting and unmounting need it
// exclusively (tried, never waited for), so neither happens under another run.

import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SysError, flock, mountTmpfs, tryFlock, umount } from '../../native/index.js';
import { HostError, errnoCode } from '../errors.js';
import { removeDirIfEmpty } from '../files.js';

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
const MOUNT_SOURCE = 'zonectl';

export interface RunDirHold {
  /** Lets the directory go; the last holder unmounts zonectl's tmpfs when nothing is left in it. */
  release(): Promise<void>;
}

function inMemory(dir: string): boolean {
  for (let p = dir; ; p = dirname(p)) {
    try {
      const t = statfsSync(p).type;
      return t === TMPFS_MAGIC || t === RAMFS_MAGIC;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || p === dirname(p)) throw new HostError(`statfs ${p}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: p });
    }
  }
}

/** Whether zonectl's own tmpfs is mounted on `dir` (read from this process's mountinfo). */
function ownMount(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => {
    const [fields = '', fs = ''] = line.split(' - ');
    const [type, source] = fs.split(' ');
    return fields.split(' ')[4] === dir && type === 'tmpfs' && source === MOUNT_SOURCE;
  });
}

/**
 * Whether a tmpfs is on `dir` now, by one statfs: once holdRunDir has found `dir` on the disk or
 * under zonectl's own tmpfs (never someone else's), a tmpfs there is zonectl's, mounted and
 * unmounted only under the exclusive lock. (The mount table is read once, for that first look.)
 */
function tmpfsAt(dir: string): boolean {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw new HostError(`statfs ${dir}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: dir });
  }
}

function isEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw new HostError(`list ${dir}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: dir });
  }
}

const NOTHING: RunDirHold = { release: async () => {} };

/**
 * Holds `dir` for a run that writes records, making it a tmpfs of zonectl's own first when its
 * filesystem is not in memory and it is empty (state of runs before this version, on the
 * disk, is never covered).
 */
export async function holdRunDir(dir: string): Promise<RunDirHold> {
  if (inMemory(dir) && !ownMount(dir)) return NOTHING; // /run is a tmpfs: nothing of ours to mount
  const lockPath = `${dir}.lock`;
  let fd: number;
  try {
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    fd = openSync(lockPath, 'a+', 0o600);
  } catch (err) {
    throw new HostError(`open ${lockPath}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: lockPath });
  }
  try {
    for (;;) {
      // shared: waits only while another run mounts or unmounts
      if (!tryFlock(fd, { shared: true })) await flock(fd, { shared: true });
      if (tmpfsAt(dir)) break;
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      if (!isEmpty(dir)) break; // records of earlier runs on the disk: used as they are
      // Empty, on the disk: mount it, alone (a run never waits for another's whole run: a
      // failed try lets the other one mount, and the mount is looked for again).
      if (tryFlock(fd)) {
        if (!tmpfsAt(dir) && isEmpty(dir)) mountTmpfs(dir, 'mode=755');
        continue;
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
  } catch (err) {
    closeSync(fd);
    throw err instanceof HostError ? err : new HostError(`mount a tmpfs on ${dir}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: dir });
  }
  return {
    release: async () => {
      try {
        // The last one out, with nothing left inside: no other holder may be in (the exclusive
        // lock), and none comes in before the unmount is done. (Emptiness first: an up leaves
        // its zones' records, and looks no further.)
        if (isEmpty(dir) && tmpfsAt(dir) && tryFlock(fd) && tmpfsAt(dir) && isEmpty(dir)) {
          await umount(dir, { detach: false }).catch((err: unknown) => {
            // EBUSY: a process still has a descriptor or its cwd in it (a read-only command)
            if (!(err instanceof SysError && err.code === 'EBUSY')) throw err;
          });
          if (!tmpfsAt(dir)) removeDirIfEmpty(dir); // the empty directory it covered
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}
