// `zonectl plan`: observe the host, diff it against the files. Read-only: never takes the lock.

import { observe } from '../reconcile/observe.js';
import { plan as diff, usesNftables } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { openProject, type ProjectOptions } from './project.js';

export interface PlanOptions extends ProjectOptions {
  prune?: boolean;
}

export async function planProject(opts: PlanOptions): Promise<Plan> {
  const { desired, host } = await openProject(opts);
  const actual = await observe(host, desired.project, { nft: usesNftables(desired) });
  return diff(desired, actual, { prune: opts.prune ?? true });
}
