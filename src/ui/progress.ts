// Live progress of an apply: on a terminal, one listr2 task per action, driven by the
// executor's events (the executor decides order and concurrency; listr2 only shows it);
// without one, or with CI set, one plain line per finished action.

import type { ActionResult, ExecuteEvents } from '../reconcile/execute.js';
import type { Action, Plan } from '../plan/types.js';

export interface Progress {
  events: ExecuteEvents;
  /** Runs `work` while the display is live; resolves when both are done. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

const VERB: Record<Action['kind'], string> = { create: 'create', update: 'update', replace: 'replace', delete: 'delete' };

function title(a: Action): string {
  return `${VERB[a.kind]} ${a.resource === 'global' ? `project ${a.name}` : `${a.resource} ${a.name}`}`;
}

const PAST: Record<Action['kind'], string> = { create: 'created', update: 'updated in place', replace: 'replaced', delete: 'deleted' };

/** Without a terminal (or with CI set): one self-contained line per finished action. */
function plainLines(write: (s: string) => void): Progress {
  const started = new Map<string, number>();
  return {
    events: {
      start: (a) => started.set(a.id, performance.now()),
      done: (a, r) => {
        const ms = Math.round(performance.now() - (started.get(a.id) ?? performance.now()));
        const what = a.resource === 'global' ? `project ${a.name}` : `${a.resource} ${a.name}`;
        if (r.status === 'done') {
          const notes = r.outcomes.filter((o) => o.status !== 'applied').map((o) => `, ${o.limit} ${o.status}`).join('');
          write(`${what}: ${PAST[a.kind]} in ${ms} ms${notes}\n`);
        } else if (r.status === 'failed') write(`${what}: ${a.kind} failed at ${r.step}: ${r.error.message}\n`);
        else write(`${what}: skipped (${r.because} failed)\n`);
      },
    },
    run: (work) => work(),
  };
}

export async function progress(plan: Plan, opts: { plain: boolean; quiet: boolean }): Promise<Progress> {
  if (opts.quiet) return { events: {}, run: (work) => work() };
  if (opts.plain) return plainLines((s) => process.stdout.write(s));
  const { Listr } = await import('listr2');
  type Waiter = { resolve(r: ActionResult): void; setOutput(s: string): void };
  const waiters = new Map<string, Waiter>();
  const results = new Map<string, Promise<ActionResult>>();
  const outputs = new Map<string, (s: string) => void>();
  for (const a of plan.actions) {
    let resolve!: (r: ActionResult) => void;
    results.set(a.id, new Promise((r) => (resolve = r)));
    waiters.set(a.id, { resolve, setOutput: (s) => outputs.get(a.id)?.(s) });
  }
  const list = new Listr(
    plan.actions.map((a) => ({
      title: title(a),
      task: async (_ctx: unknown, task: { output: string; title: string; skip(msg: string): void }) => {
        outputs.set(a.id, (s) => (task.output = s));
        const r = await results.get(a.id)!;
        if (r.status === 'skipped') return task.skip(`${title(a)}: skipped, ${r.because} failed`);
        if (r.status === 'failed') throw new Error(`${title(a)}: ${r.error.message}`);
        const notes = r.outcomes.filter((o) => o.status !== 'applied').map((o) => `${o.limit} ${o.status}: ${o.reason ?? ''}`);
        task.title = notes.length > 0 ? `${title(a)} (${notes.join('; ')})` : title(a);
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: 'default',
      rendererOptions: { collapseSubtasks: false },
    },
  );
  return {
    events: {
      step: (a, step) => waiters.get(a.id)?.setOutput(step),
      done: (a, r) => waiters.get(a.id)?.resolve(r),
    },
    async run(work) {
      const shown = list.run().catch(() => undefined); // failures are reported by the caller
      try {
        return await work();
      } finally {
        await shown;
      }
    },
  };
}
