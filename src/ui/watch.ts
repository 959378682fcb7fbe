// What `up --watch` prints: one line per reconcile (or one JSON object per line with --json):
// what triggered it, what changed, how long from the first file event to applied, errors.

import { displayFile, type ConfigProblem } from '../config/errors.js';
import { fieldText } from '../model/view.js';
import { assertNever, type Action } from '../plan/types.js';
import { problemsJson } from './problems.js';

export type Trigger = 'start' | 'change' | 'resync';

/** One reconcile, as reported: the CLI prints it as one line or one JSON object. */
export interface ReconcileReport {
  time: Date;
  trigger: Trigger;
  /** The changed files (absolute). */
  files: string[];
  /**
   * applied: changes were made; unchanged: the host matched the files; pending: nothing was
   * applied but changes are held (--hot-only); invalid: the files or the plan have errors,
   * nothing changed; failed: some changes failed (the rest were applied).
   */
  status: 'applied' | 'unchanged' | 'pending' | 'invalid' | 'failed';
  /** The actions applied (after a resync: the drift that was reverted). */
  applied: Action[];
  /** The actions held by --hot-only. */
  pending: Action[];
  /** Located configuration errors of an invalid edit. */
  problems: ConfigProblem[];
  /** Plan errors, failed or skipped actions, failures of the watcher itself. */
  errors: string[];
  /** Plan warnings; limits written but deferred or infeasible. */
  warnings: string[];
  /** From the batch's first file event (the resync tick, the start) to applied, ms. */
  ms: number;
}

/** Files named in a line, at most; the rest are counted. */
const MAX_FILES = 3;

/**
 * One action in a few words: `update zone.web limits.memory=128M→256M`, `create zone.api`.
 * `why` adds the plan's cause where the fields do not say it (drift: `create network.lan (the
 * bridge is missing)`, `replace zone.db (it exited (code 137))`).
 */
export function actionText(a: Action, why = false): string {
  switch (a.kind) {
    case 'create':
    case 'delete':
      return `${a.kind} ${a.id}${why ? ` (${a.cause})` : ''}`;
    case 'update':
    case 'replace': {
      const fields = a.changes.map((c) => ` ${c.path}=${fieldText(c.path, c.before)}→${fieldText(c.path, c.after)}`).join('');
      return `${a.kind} ${a.id}${fields}${a.kind === 'replace' && a.replace_paths.length === 0 ? ` (${a.cause})` : ''}`;
    }
    default:
      return assertNever(a);
  }
}

function filesText(files: readonly string[], cwd?: string): string {
  const shown = files.slice(0, MAX_FILES).map((f) => displayFile(f, cwd));
  return files.length > MAX_FILES ? `${shown.join(', ')} (+${files.length - MAX_FILES} more)` : shown.join(', ');
}

function clock(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * `12:00:05 change zones/10-web.yaml: applied update zone.web limits.memory=128M→256M in 41 ms`.
 * Located problems of an invalid edit are printed before it (problemLines), not in it.
 */
export function watchLine(r: ReconcileReport, opts: { cwd?: string } = {}): string {
  const drift = r.trigger === 'resync';
  const what = (actions: ReconcileReport['applied']): string => actions.map((a) => actionText(a, drift)).join(', ');
  const parts: string[] = [];
  switch (r.status) {
    case 'applied':
      parts.push(`${drift ? 'drift reverted: ' : 'applied '}${what(r.applied)} in ${r.ms} ms`);
      break;
    case 'unchanged':
      parts.push(drift ? 'no drift' : 'no changes, the host matches the files');
      break;
    case 'pending':
      break;
    case 'invalid': {
      const n = r.problems.length + r.errors.length;
      parts.push(`invalid (${n} error${n === 1 ? '' : 's'}${r.problems.length > 0 ? ' above' : ''}): nothing changed, the last good state keeps running`);
      break;
    }
    case 'failed':
      parts.push(`failed${r.applied.length > 0 ? ` (applied ${what(r.applied)} in ${r.ms} ms)` : ''}`);
      break;
    default:
      assertNever(r.status);
  }
  if (r.pending.length > 0) parts.push(`pending (--hot-only): ${what(r.pending)}`);
  if (r.status !== 'invalid' && r.errors.length > 0) parts.push(`error: ${r.errors.join('; ')}`);
  if (r.status === 'invalid' && r.errors.length > 0) parts.push(r.errors.join('; '));
  if (r.warnings.length > 0) parts.push(`warning: ${r.warnings.join('; ')}`);
  const trigger = r.trigger === 'change' && r.files.length > 0 ? `change ${filesText(r.files, opts.cwd)}` : r.trigger;
  return `${clock(r.time)} ${trigger}: ${parts.join('; ')}`;
}

/** The JSON object of one reconcile (one per line). */
export function watchJson(r: ReconcileReport, opts: { cwd?: string } = {}): Record<string, unknown> {
  return {
    time: r.time.toISOString(),
    trigger: r.trigger,
    files: r.files.map((f) => displayFile(f, opts.cwd)),
    status: r.status,
    applied: r.applied.map((a) => actionText(a, r.trigger === 'resync')),
    pending: r.pending.map((a) => actionText(a)),
    ms: r.ms,
    errors: [...problemsJson(r.problems), ...r.errors.map((message) => ({ message }))],
    warnings: r.warnings,
  };
}
