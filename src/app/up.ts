// `zonectl up`: take the project lock, observe, plan, and apply the plan with progress.
// `down` is the same with nothing desired.

import { existsSync } from 'node:fs';
import { lockFile, tryLockFile, type ProjectLock } from '../host/state/lock.js';
import type { DesiredState } from '../model/types.js';
import { plan as diff, usesNftables } from '../plan/plan.js';
import { hasErrors, type Plan } from '../plan/types.js';
import { execute, type ExecuteEvents, type ExecuteResult } from '../reconcile/execute.js';
import { observe } from '../reconcile/observe.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { createHost, type Host } from '../host/index.js';
import { unlimited } from '../model/limits.js';
import { openProject, type ProjectOptions } from './project.js';

export interface ApplyOptions extends ProjectOptions {
  prune?: boolean;
  /** down: also delete the zones' writable layers. */
  volumes?: boolean;
  /** Told the holder's pid when another run holds the lock. */
  onWait?: (pid: number | null) => void;
  /** Called with the plan before anything is applied; return false to apply nothing. */
  onPlan?: (plan: Plan) => boolean;
  events?: ExecuteEvents;
  /** Wraps the execution (the live progress display runs around it). */
  beforeApply?: (plan: Plan, run: () => Promise<ExecuteResult>) => Promise<ExecuteResult>;
}

export interface ApplyOutcome {
  plan: Plan;
  /** null when nothing was applied (no changes, or the plan had errors). */
  result: ExecuteResult | null;
  /** down --volumes: zones stopped by an earlier plain down whose layers and logs it removed. */
  removedLayers?: string[];
}

export async function up(opts: ApplyOptions): Promise<ApplyOutcome> {
  const { desired, host } = await openProject(opts);
  return apply(desired, host, opts);
}

/**
 * down needs only the project's name: from the files, or from -p alone (so that a project
 * whose files are gone or broken can still be taken down).
 */
export async function down(opts: ApplyOptions): Promise<ApplyOutcome> {
  let project: string;
  try {
    project = loadConfig(opts).desired.project;
  } catch (err) {
    if (!(err instanceof ConfigError) || opts.projectName === undefined) throw err;
    project = opts.projectName;
  }
  const host = await createHost(opts);
  const nothing: DesiredState = { project, files: [], global: { limits: unlimited() }, networks: {}, zones: {} };
  return apply(nothing, host, { ...opts, prune: true }, true);
}

/** A run with nothing planned reports only a failure. */
async function quiet(result: Promise<ExecuteResult>): Promise<ExecuteResult | null> {
  const r = await result;
  return r.ok ? null : r;
}

async function apply(desired: DesiredState, host: Host, opts: ApplyOptions, removing = false): Promise<ApplyOutcome> {
  const runDir = await host.state.hold();
  let lock: ProjectLock;
  try {
    lock = await lockFile(host.state.lockPath(desired.project), opts.onWait);
  } catch (err) {
    await runDir.release();
    throw err;
  }
  let gone = false;
  try {
    const actual = await observe(host, desired.project, { nft: usesNftables(desired) });
    const plan = diff(desired, actual, { prune: opts.prune ?? true });
    if (opts.onPlan?.(plan) === false || hasErrors(plan)) {
      // Nothing applied (a dry run, a plan error): a project that did not exist leaves no lock.
      gone = actual.global === null && Object.keys(actual.zones).length === 0 && Object.keys(actual.networks).length === 0;
      return { plan, result: null };
    }
    const run = () => execute(plan, host, opts.events, { volumes: opts.volumes === true });
    // No actions: still reconcile the derived state (the nftables table), quietly.
    const result = plan.actions.length === 0 ? await quiet(run()) : await (opts.beforeApply ? opts.beforeApply(plan, run) : run());
    const nothingDesired = Object.keys(desired.zones).length === 0 && Object.keys(desired.networks).length === 0;
    gone = (removing || nothingDesired) && (result === null || result.ok);
    // down --volumes: also the layers and logs of zones stopped by an earlier plain down.
    const removedLayers: string[] = [];
    if (gone && opts.volumes) {
      for (const zone of await host.zones.storedZones(desired.project)) {
        await host.zones.remove(desired.project, zone, { layers: true });
        removedLayers.push(zone);
      }
    }
    return { plan, result, ...(removedLayers.length > 0 ? { removedLayers } : {}) };
  } finally {
    try {
      if (gone) {
        // down, or nothing to keep: nothing of the project is left, not even its lock. The
        // records go here too: a down killed after the project's cgroup went but before its
        // records did leaves nothing for the next plan to delete, only files (its hosts/).
        try {
          await host.state.removeProject(desired.project);
        } finally {
          lock.removeAndRelease();
        }
        // a watch killed by SIGKILL left its lock, held by no one: it goes too (a live watch keeps it)
        const watchLock = host.state.watchLockPath(desired.project);
        if (existsSync(watchLock)) tryLockFile(watchLock)?.removeAndRelease();
        await host.state.removeProjectDir(desired.project);
        await host.zones.removeEmptyProject(desired.project);
      } else lock.release();
    } finally {
      await runDir.release();
    }
  }
}
