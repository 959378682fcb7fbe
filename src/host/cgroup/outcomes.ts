// Recording what apply() did to each limit, and the checked write both drivers use.

import { basename, dirname } from 'node:path';
import { HostError } from '../errors.js';
import type { LimitOutcome, LimitPath } from './driver.js';
import type { CgroupFs } from './fs.js';

export class Outcomes {
  readonly list: LimitOutcome[] = [];

  applied(limit: LimitPath, file: string, value: string): void {
    this.list.push({ limit, status: 'applied', file, value });
  }
  deferred(limit: LimitPath, file: string, value: string, reason: string): void {
    this.list.push({ limit, status: 'deferred', file, value, reason });
  }
  infeasible(limit: LimitPath, file: string, value: string, reason: string): void {
    this.list.push({ limit, status: 'infeasible', file, value, reason });
  }
}

/**
 * Makes `file` hold `value`: reads it first and writes only when the kernel does not already
 * hold it, then reads it back. Returns null when the kernel holds what was asked
 * (`holds(text)`), else the reason: the write's error (naming file, value and code) or what
 * the file reads instead. `fresh`: the cgroup was just made and holds the kernel's defaults,
 * which the caller knows differ from `value` (a neutral value in a fresh cgroup is not written
 * at all): no read before the write.
 */
export async function writeChecked(fs: CgroupFs, file: string, value: string, holds: (text: string) => boolean, fresh = false): Promise<string | null> {
  if (!fresh && holds((await fs.read(file)).trim())) return null;
  const failed = await tryWrite(fs, file, value, fresh);
  if (failed !== null) return failed.message;
  const text = (await fs.read(file)).trim();
  return holds(text) ? null : `wrote ${value.trim() || '""'} to ${file} but it reads ${text || '""'}`;
}

/**
 * Which control files a cgroup has depends on the kernel and its boot options, and on v2 on
 * the parent's cgroup.subtree_control: never on the cgroup itself. A file seen once in a child
 * of a parent is in every child of it, so each is looked for once a run (a stat per limit per
 * zone, before), by the first of the zones applied side by side. Only what is there is
 * remembered: a file found absent is looked for again, in the caller's own cgroup.
 */
export class ControlFiles {
  private readonly seen = new Map<string, { file: string; there: Promise<boolean> }>();
  constructor(private readonly fs: CgroupFs) {}

  async has(file: string): Promise<boolean> {
    const key = `${dirname(dirname(file))}\0${basename(file)}`;
    let first = this.seen.get(key);
    if (first === undefined) {
      first = { file, there: this.fs.exists(file) };
      this.seen.set(key, first);
    }
    let there: boolean;
    try {
      there = await first.there;
    } catch (err) {
      if (this.seen.get(key) === first) this.seen.delete(key);
      throw err;
    }
    if (there) return true;
    if (this.seen.get(key) === first) this.seen.delete(key);
    // the first look may have been into another cgroup, one that is gone
    return first.file === file ? false : this.fs.exists(file);
  }
}

/** The file's text, or null when it does not exist (controller absent); other errors throw. */
export async function readIfPresent(fs: CgroupFs, file: string): Promise<string | null> {
  try {
    return await fs.read(file);
  } catch (err) {
    if (err instanceof HostError && err.code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes `value` to `file`; returns the HostError instead of throwing it. */
export async function tryWrite(fs: CgroupFs, file: string, value: string, empty = false): Promise<HostError | null> {
  try {
    await fs.write(file, value, empty);
    return null;
  } catch (err) {
    if (err instanceof HostError) return err;
    throw err;
  }
}

/** The reason given when a control file is absent. */
export function absentReason(file: string, controller: string): string {
  return `controller ${controller} is not available here: ${file} is absent`;
}
