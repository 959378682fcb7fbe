// Recording what apply() did to each limit, and the checked write both drivers use.

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
 * hold it (a fresh cgroup already has the defaults: unlimited, weight 100, the parent's
 * period), then reads it back. Returns null when the kernel holds what was asked
 * (`holds(text)`), else the reason: the write's error (naming file, value and code) or what
 * the file reads instead.
 */
export async function writeChecked(fs: CgroupFs, file: string, value: string, holds: (text: string) => boolean): Promise<string | null> {
  if (holds((await fs.read(file)).trim())) return null;
  const failed = await tryWrite(fs, file, value);
  if (failed !== null) return failed.message;
  const text = (await fs.read(file)).trim();
  return holds(text) ? null : `wrote ${value.trim() || '""'} to ${file} but it reads ${text || '""'}`;
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
export async function tryWrite(fs: CgroupFs, file: string, value: string): Promise<HostError | null> {
  try {
    await fs.write(file, value);
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
