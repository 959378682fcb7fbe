// `zonectl up --watch`: apply the files, then keep the host converged on them. Every file that
// contributed (each -f file, every *.yaml in a -f DIR, new ones included, and the .env) is
// watched; a settled batch of changes (debounced) is one reconcile: load, validate, plan,
// apply. Every --resync interval the host is observed again and drift is reverted. This is
// `up` on a trigger (DESIGN decision 5): the plan decides what is in place and what replaces.
//
// Locks: RUN/PROJECT/watch.lock is held for as long as this watches (a second watcher is
// refused); the project lock is taken per reconcile only, so `up` and `down` still run.

import { performance } from 'node:perf_hooks';
import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../config/errors.js';
import { loadConfig, type Loaded } from '../config/load.js';
import { createHost, type Host } from '../host/index.js';
import { lockHolder, tryLockFile, type ProjectLock } from '../host/state/lock.js';
import { plan as diff, usesNftables } from '../plan/plan.js';
import { hasErrors, type Action, type Plan } from '../plan/types.js';
import { execute, type ExecuteResult } from '../reconcile/execute.js';
import { observe } from '../reconcile/observe.js';
import { UserError } from './errors.js';
import { canonical, type ProjectOptions } from './project.js';
import type { ReconcileReport, Trigger } from '../ui/watch.js';

export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_RESYNC_MS = 30_000;
/** How often watch checks where the watched paths lead (a swapped symlink: see followSwaps). */
const SYMLINK_CHECK_MS = 1000;
/** How often a reconcile tries the project lock again while another run holds it. */
const LOCK_POLL_MS = 100;

/** What starts a reconcile: the first apply, a settled batch of file events, a resync tick. */
export interface Batch {
  trigger: Trigger;
  /** The files whose events made the batch, sorted, each once (empty for start and resync). */
  files: string[];
  /** When the first event of the batch happened (the clock given to the Batcher, ms). */
  since: number;
}

export interface BatcherOptions {
  /** Quiet time after the last event before a batch is run. */
  debounceMs: number;
  /** A batch is run at the latest this long after its first event, even if events keep coming. */
  maxWaitMs?: number;
  run(batch: Batch): Promise<void>;
  /** Default performance.now. */
  now?: () => number;
}

/**
 * Turns file events and resync ticks into batches, and runs them one at a time: events that
 * come while a batch runs make the next batch (never a second concurrent run). A resync tick
 * while file events are settling is dropped: the change's reconcile observes the host anyway.
 */
export class Batcher {
  private readonly now: () => number;
  private readonly maxWaitMs: number;
  private files = new Set<string>();
  private since: number | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private maxWait: ReturnType<typeof setTimeout> | null = null;
  private ready: Batch[] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: BatcherOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.maxWaitMs = opts.maxWaitMs ?? Math.max(1000, 10 * opts.debounceMs);
  }

  /** The first apply: run now, before any batch. */
  start(): void {
    this.enqueue({ trigger: 'start', files: [], since: this.now() });
  }

  change(path: string): void {
    if (this.closed) return;
    this.files.add(path);
    if (this.since === null) {
      this.since = this.now();
      this.maxWait = setTimeout(() => this.settle(), this.maxWaitMs);
    }
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.settle(), this.opts.debounceMs);
  }

  resync(): void {
    if (this.closed || this.since !== null || this.ready.length > 0) return;
    this.enqueue({ trigger: 'resync', files: [], since: this.now() });
  }

  /** True while a batch is being collected, waiting or running. */
  get busy(): boolean {
    return this.since !== null || this.ready.length > 0 || this.running !== null;
  }

  /** Stops taking events and drops what has not started; resolves when the running batch is done. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    this.files.clear();
    this.since = null;
    this.ready = [];
    await this.running;
  }

  private settle(): void {
    this.clearTimers();
    if (this.since === null) return;
    const batch: Batch = { trigger: 'change', files: [...this.files].sort(), since: this.since };
    this.files = new Set();
    this.since = null;
    this.enqueue(batch);
  }

  private enqueue(batch: Batch): void {
    if (this.closed) return;
    // A change batch waiting behind the running one absorbs a later one (one reconcile each).
    const waiting = this.ready.at(-1);
    if (waiting && batch.trigger === 'change' && waiting.trigger !== 'start') {
      this.ready[this.ready.length - 1] = {
        trigger: 'change',
        files: [...new Set([...(waiting.trigger === 'change' ? waiting.files : []), ...batch.files])].sort(),
        since: waiting.trigger === 'change' ? Math.min(waiting.since, batch.since) : batch.since,
      };
    } else if (!(waiting && batch.trigger === 'resync')) {
      this.ready.push(batch);
    }
    this.pump();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const next = this.ready.shift();
    if (!next) return;
    this.running = this.opts.run(next).finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private clearTimers(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (this.maxWait) clearTimeout(this.maxWait);
    this.debounce = null;
    this.maxWait = null;
  }
}


export interface WatchOptions extends ProjectOptions {
  prune?: boolean;
  /** Apply only what keeps running processes running; replacements and deletions stay pending. */
  hotOnly?: boolean;
  /** Default 100 ms. */
  debounceMs?: number;
  /** Default 30 s; 0: no resync. */
  resyncMs?: number;
  /** Aborting it stops watching: the apply under way finishes, then watchProject resolves. */
  signal: AbortSignal;
  report(r: ReconcileReport): void;
  /** Told once what is watched, after the watch lock was taken. */
  onWatching?(info: { project: string; paths: string[] }): void;
  /** Told the holder's pid when another run holds the project lock at a reconcile. */
  onWait?(pid: number | null): void;
}

/** True for an action --hot-only holds back: it would stop a running zone or a bridge in use. */
export function isCold(a: Action): boolean {
  return a.kind === 'delete' || (a.kind === 'replace' && a.replace_paths.length > 0);
}

export async function watchProject(opts: WatchOptions): Promise<void> {
  // The first load must succeed: it names the project (and so the locks).
  const first = loadConfig(opts);
  const project = first.desired.project;
  const host = await createHost(opts);
  // held for as long as it watches: its watch.lock is a record too
  const runDir = await host.state.hold();
  try {
    const watchLockPath = host.state.watchLockPath(project);
    const watchLock = tryLockFile(watchLockPath);
    if (!watchLock) {
      const pid = lockHolder(watchLockPath);
      throw new UserError(`project ${project} is already watched by another zonectl up --watch${pid ? ` (pid ${pid})` : ''}; stop that one first`);
    }
    try {
      await watchLoop(opts, host, project, first);
    } finally {
      watchLock.removeAndRelease();
      await host.state.removeProjectDir(project); // only if nothing else of the project is there
    }
  } finally {
    await runDir.release();
  }
}

async function watchLoop(opts: WatchOptions, host: Host, project: string, first: Loaded): Promise<void> {
  const sources = new Set(first.sources);
  const directories = new Set(first.directories);
  // The .env is read beside the first file (inside DIR for -f DIR): watched even before it exists.
  const dotenv = join(dirname(first.sources[0]!), '.env');
  const relevant = (p: string): boolean =>
    sources.has(p) || p === dotenv || (directories.has(dirname(p)) && /\.ya?ml$/.test(p) && !basename(p).startsWith('.'));
  // Directories are watched rather than files: an atomic save (temp + rename) replaces the
  // file's inode, and a checkout may delete and recreate it; editors' temp files are ignored.
  const parents = new Set([...first.sources.map((s) => dirname(s)), ...directories]);

  // Where each watched path leads (through symlinks): see followSwaps.
  const realOf = (p: string): string | null => {
    try {
      return realpathSync(p);
    } catch {
      return null; // gone (mid-swap, or removed): compared as such
    }
  };
  const leads = new Map([...parents, ...sources].map((p) => [p, realOf(p)]));
  // What a resync reverts to while the files are invalid (their errors were reported once).
  let lastGood = first;
  const reconcile = async (batch: Batch): Promise<void> => {
    opts.report(
      await reconcileOnce(batch, opts, host, project, lastGood, (loaded) => {
        for (const s of loaded.sources) {
          sources.add(s);
          if (!leads.has(s)) leads.set(s, realOf(s));
        }
        lastGood = loaded;
      }),
    );
  };

  const batcher = new Batcher({ debounceMs: opts.debounceMs ?? DEFAULT_DEBOUNCE_MS, run: reconcile });
  const { watch } = await import('chokidar');
  const watcher = watch([...parents], {
    ignoreInitial: true,
    depth: 0,
    ignored: (p: string) => !parents.has(p) && !relevant(p),
  });
  watcher.on('all', (_event: string, path: string) => {
    if (relevant(path)) batcher.change(path);
  });
  watcher.on('error', (err: unknown) => opts.report(failureReport('change', [], 0, `watching the files: ${err instanceof Error ? err.message : String(err)}`)));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  opts.onWatching?.({ project, paths: [...parents].sort() });

  // A deploy tool that swaps a symlink on the way to the files (`current -> releases/N`, or the
  // file itself) leaves the watches on the old target, and says nothing in the watched
  // directories: where each path leads is checked every SYMLINK_CHECK_MS. A directory that
  // leads elsewhere is watched again; the files under a moved path make a change batch.
  const followSwaps = (): void => {
    const moved = [...leads].filter(([p, real]) => realOf(p) !== real).map(([p]) => p);
    if (moved.length === 0) return;
    for (const p of moved) leads.set(p, realOf(p));
    const dirs = moved.filter((p) => parents.has(p));
    if (dirs.length > 0) {
      watcher.unwatch(dirs);
      watcher.add(dirs);
    }
    for (const s of sources) if (moved.includes(s) || dirs.includes(dirname(s))) batcher.change(s);
  };

  batcher.start();
  const resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
  const ticker = resyncMs > 0 ? setInterval(() => batcher.resync(), resyncMs) : null;
  const swaps = setInterval(() => followSwaps(), SYMLINK_CHECK_MS);
  try {
    if (!opts.signal.aborted) await new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    clearInterval(swaps);
    if (ticker) clearInterval(ticker);
    await watcher.close();
    await batcher.close(); // the apply under way finishes; nothing new starts
  }
}

/** Load, validate, plan, apply: one reconcile; never throws (failures are reported). */
async function reconcileOnce(
  batch: Batch,
  opts: WatchOptions,
  host: Host,
  project: string,
  lastGood: Loaded,
  onLoaded: (loaded: Loaded) => void,
): Promise<ReconcileReport> {
  const base = { trigger: batch.trigger, files: batch.files };
  const elapsed = (): number => Math.round(performance.now() - batch.since);
  // A resync reverts drift to the files as last loaded: edits are applied (and reported) by their
  // own batch, never by a resync that happened to run between an edit and its file event.
  let loaded = lastGood;
  if (batch.trigger !== 'resync') {
    try {
      loaded = loadConfig(opts);
      if (loaded.desired.project !== project) {
        throw new ConfigError([{ loc: null, path: 'name', message: `the project name changed from ${project} to ${loaded.desired.project}: restart zonectl up --watch to manage the new project` }]);
      }
      onLoaded(loaded);
    } catch (err) {
      if (!(err instanceof ConfigError)) return failureReport(batch.trigger, batch.files, elapsed(), err instanceof Error ? err.message : String(err));
      // An invalid edit changes nothing: the last good files stay in force.
      return { ...empty(base), status: 'invalid', problems: err.problems, ms: elapsed() };
    }
  }
  let lock: ProjectLock | null = null;
  try {
    lock = await takeLock(host.state.lockPath(project), opts);
    if (!lock) return { ...empty(base), status: 'unchanged', errors: ['stopped while waiting for another zonectl run on this project'], ms: elapsed() };
    const desired = canonical(loaded.desired, host);
    const actual = await observe(host, project, { nft: usesNftables(desired) });
    const plan = diff(desired, actual, { prune: opts.prune ?? true });
    const warnings = plan.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.id}: ${d.path}: ${d.message}`);
    if (hasErrors(plan)) {
      const errors = plan.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.id}: ${d.path}: ${d.message}`);
      return { ...empty(base), status: 'invalid', errors, warnings, ms: elapsed() };
    }
    const pending = opts.hotOnly ? plan.actions.filter(isCold) : [];
    const toApply: Plan = { ...plan, actions: plan.actions.filter((a) => !pending.includes(a)) };
    // Even with nothing planned, execute reconciles the derived state (the nftables table).
    const run = await execute(toApply, host);
    const result = toApply.actions.length > 0 || !run.ok ? run : null;
    const ms = elapsed();
    return { ...empty(base), ...outcome(toApply, result), pending, warnings: [...warnings, ...limitWarnings(toApply, result)], ms, ...(pending.length > 0 && toApply.actions.length === 0 ? { status: 'pending' as const } : {}) };
  } catch (err) {
    return failureReport(batch.trigger, batch.files, elapsed(), err instanceof Error ? err.message : String(err));
  } finally {
    lock?.release();
  }
}

/** The project lock, polled (so that a stop request is not stuck behind another run); null when stopped. */
async function takeLock(path: string, opts: WatchOptions): Promise<ProjectLock | null> {
  let told = false;
  for (;;) {
    if (opts.signal.aborted) return null;
    const lock = tryLockFile(path);
    if (lock) return lock;
    if (!told) opts.onWait?.(lockHolder(path));
    told = true;
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

function empty(base: { trigger: Trigger; files: string[] }): ReconcileReport {
  return { time: new Date(), ...base, status: 'unchanged', applied: [], pending: [], problems: [], errors: [], warnings: [], ms: 0 };
}

function failureReport(trigger: Trigger, files: string[], ms: number, error: string): ReconcileReport {
  return { ...empty({ trigger, files }), status: 'failed', errors: [error], ms };
}

function outcome(plan: Plan, result: ExecuteResult | null): Pick<ReconcileReport, 'status' | 'applied' | 'errors'> {
  if (!result) return { status: 'unchanged', applied: [], errors: [] };
  const applied: Action[] = [];
  const errors: string[] = [];
  for (const a of plan.actions) {
    const r = result.results.get(a.id);
    if (r?.status === 'done') applied.push(a);
    else if (r?.status === 'failed') errors.push(`${a.id}: ${r.error.message}`);
    else if (r?.status === 'skipped') errors.push(`${a.id}: skipped, ${r.because} failed`);
  }
  const rules = result.results.get('rules');
  if (rules?.status === 'failed') errors.push(`${rules.step}: ${rules.error.message}`);
  return { status: result.ok ? 'applied' : 'failed', applied, errors };
}

function limitWarnings(plan: Plan, result: ExecuteResult | null): string[] {
  if (!result) return [];
  const out: string[] = [];
  for (const a of plan.actions) {
    const r = result.results.get(a.id);
    if (r?.status !== 'done') continue;
    for (const o of r.outcomes) if (o.status !== 'applied') out.push(`${o.status}: ${a.id}: limits.${o.limit}: ${o.reason ?? `${o.file} = ${o.value}`}`);
  }
  return out;
}
