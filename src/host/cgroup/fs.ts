// The few filesystem operations a cgroup driver needs, behind an interface so that tests
// can run the drivers against a fake tree that behaves like cgroupfs (control files appear
// on mkdir, rmdir of a cgroup with control files works).

import { constants, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rmdir } from 'node:fs/promises';
import { errnoCode, HostError } from '../errors.js';

export interface CgroupFs {
  /** The whole file as text. Throws HostError (`read PATH: CODE`). */
  read(path: string): Promise<string>;
  /** One write(2) of `value` to an existing control file: never creates, never truncates. */
  write(path: string, value: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates one directory; true if it was created, false if it was already there. */
  mkdir(path: string): Promise<boolean>;
  /** Removes one cgroup directory. */
  rmdir(path: string): Promise<void>;
  /** Names of the child directories (child cgroups). */
  subdirs(path: string): Promise<string[]>;
}

/**
 * The real cgroupfs through node:fs. Reads and stats are synchronous: cgroupfs files are made
 * by the kernel on read and never wait for a disk, so the syscalls take microseconds, while
 * each async readFile is four or five hops through libuv's 4-thread pool; observing 100 zones
 * (about 30 files each) spent ~0.5 s queued there. Writes stay async: a v1 memory limit
 * below usage reclaims inside write(2) and can take long.
 */
export const nodeCgroupFs: CgroupFs = {
  async read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (cause) {
      throw new HostError(`read ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async write(path, value) {
    let handle;
    try {
      // O_WRONLY without O_CREAT/O_TRUNC: write-only control files (cgroup.kill) refuse O_RDWR.
      handle = await open(path, constants.O_WRONLY);
      await handle.write(value);
    } catch (cause) {
      throw new HostError(`write ${value} to ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path, value });
    } finally {
      await handle?.close();
    }
  },
  async exists(path) {
    try {
      statSync(path);
      return true;
    } catch (cause) {
      if (errnoCode(cause) === 'ENOENT') return false;
      throw new HostError(`stat ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async mkdir(path) {
    try {
      await mkdir(path);
      return true;
    } catch (cause) {
      if (errnoCode(cause) === 'EEXIST') return false;
      throw new HostError(`mkdir ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async rmdir(path) {
    try {
      await rmdir(path);
    } catch (cause) {
      throw new HostError(`rmdir ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async subdirs(path) {
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (cause) {
      throw new HostError(`list ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
};
