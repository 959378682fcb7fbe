// The few filesystem operations a cgroup driver needs, behind an interface so that tests
// can run the drivers against a fake tree that behaves like cgroupfs (control files appear
// on mkdir, rmdir of a cgroup with control files works).

import { closeSync, constants, mkdirSync, openSync, readdirSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { readText, readTexts, SysError } from '../../native/index.js';
import { write } from '../afs.js';
import { errnoCode, HostError } from '../errors.js';

/**
 * Control files whose write(2) can wait inside the kernel: a memory limit below usage
 * reclaims before it returns (v1 limit_in_bytes and memsw, v2 max and high), and moving a
 * process waits for an RCU grace period. Every other cgroupfs write returns in microseconds.
 */
const MAY_WAIT = new Set(['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.max', 'memory.high', 'cgroup.procs', 'tasks']);

export interface CgroupFs {
  /** The whole file as text. Throws HostError (`read PATH: CODE`). */
  read(path: string): Promise<string>;
  /** Each whole file, in order, null for one that does not exist (observe reads a zone's ~15 at once). */
  readAll(paths: string[]): Promise<(string | null)[]>;
  /**
   * One write(2) of `value` to an existing control file: never creates, never truncates.
   * `empty`: the file's cgroup has never held a process (see Fresh), so no write to it can make
   * the kernel reclaim or wait.
   */
  write(path: string, value: string, empty?: boolean): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates one directory; true if it was created, false if it was already there. */
  mkdir(path: string): Promise<boolean>;
  /** Removes one cgroup directory. */
  rmdir(path: string): Promise<void>;
  /** Names of the child directories (child cgroups). */
  subdirs(path: string): Promise<string[]>;
}

/**
 * The real cgroupfs through node:fs, synchronously where the kernel answers at once. cgroupfs
 * files are made by the kernel on read and never wait for a disk: a read, stat, mkdir or rmdir
 * takes 15-80 µs (measured on v1: mkdir of a zone in all 7 hierarchies 0.23 ms), while each
 * async call is one to five hops through libuv's 4-thread pool; observing 100 zones (about 30
 * files each) spent ~0.5 s queued there, and creating one zone's cgroups ~12 ms. Only writes
 * that can wait in the kernel (MAY_WAIT) leave the main thread, as one write on the pool.
 */
export const nodeCgroupFs: CgroupFs = {
  async read(path) {
    let text: string | null;
    try {
      text = readText(path);
    } catch (cause) {
      throw new HostError(`read ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
    if (text === null) throw new HostError(`read ${path}: ENOENT`, { code: 'ENOENT', path });
    return text;
  },
  async readAll(paths) {
    try {
      return await readTexts(paths); // on a worker thread: the system calls leave the main thread
    } catch (cause) {
      const path = cause instanceof SysError && cause.path !== undefined ? cause.path : paths.join(', ');
      throw new HostError(`read ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async write(path, value, empty = false) {
    let fd: number | undefined;
    try {
      // O_WRONLY without O_CREAT/O_TRUNC: write-only control files (cgroup.kill) refuse O_RDWR
      // (libuv adds O_CLOEXEC).
      fd = openSync(path, constants.O_WRONLY);
      if (!empty && MAY_WAIT.has(basename(path))) await write(fd, value);
      else writeSync(fd, value);
    } catch (cause) {
      throw new HostError(`write ${value} to ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path, value });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
  async exists(path) {
    try {
      // no exception for an absent file (observe asks for a new project's cgroups in every hierarchy)
      return statSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch (cause) {
      throw new HostError(`stat ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async mkdir(path) {
    try {
      mkdirSync(path);
      return true;
    } catch (cause) {
      if (errnoCode(cause) === 'EEXIST') return false;
      throw new HostError(`mkdir ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async rmdir(path) {
    try {
      rmdirSync(path);
    } catch (cause) {
      throw new HostError(`rmdir ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
  async subdirs(path) {
    try {
      const entries = readdirSync(path, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (cause) {
      throw new HostError(`list ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
  },
};
