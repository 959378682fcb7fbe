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
 * Writes `value` to `file` and reads it back. Returns null when the kernel holds what was
 * asked (`holds(readBack)`), else the reason: the write's error (naming file, value and
 * code) or what the file reads instead.
 */
export async function writeChecked(fs: CgroupFs, file: string, value: string, holds: (text: string) => boolean): Promise<string | null> {
  const failed = await tryWrite(fs, file, value);
  if (failed !== null) return failed.message;
  const text = (await fs.read(file)).trim();
  return holds(text) ? null : `wrote ${value.trim() || '""'} to ${file} but it reads ${text || '""'}`;
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
