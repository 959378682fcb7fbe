// The command table: flags only, one lazily imported function per command, and the one
// place that turns results and errors into output and exit codes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { LoadOptions } from '../config/load.js';
import { parseDuration } from '../model/units.js';

interface ProjectFlags {
  file?: string[];
  projectName?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function version(): string {
  // every command asks: a path beside the code, no URL to build and parse
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** -f/-p/-q go before the command (as in Compose) and are also accepted after it. */
function withProjectOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'zones file or directory of *.yaml (repeatable; later files override earlier ones)', collect)
    .option('-p, --project-name <name>', 'project name (default: name: in the file, else the directory name)')
    .option('-q, --quiet', 'print only errors');
}

function loadOptions(program: Command, cmd: Command): LoadOptions {
  const g = program.opts<ProjectFlags>();
  const l = cmd.opts<ProjectFlags>();
  const files = [...(g.file ?? []), ...(l.file ?? [])];
  const projectName = l.projectName ?? g.projectName;
  return { ...(files.length ? { files } : {}), ...(projectName !== undefined ? { projectName } : {}) };
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('zonectl')
    .description('Declarative orchestrator for Linux zones: namespaces, cgroups, veth segments')
    .version(version(), '-V, --version')
    .enablePositionalOptions()
    .addOption(new Option('--no-color', 'plain output without colours'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  withProjectOptions(program);
  let code = 0;
  const quiet = (cmd: Command): boolean => cmd.optsWithGlobals<{ quiet?: boolean }>().quiet === true;

  withProjectOptions(program.command('validate'))
    .description('check the files: schema and semantic rules; no root and no host access needed')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { validate } = await import('../app/validate.js');
      const r = validate(loadOptions(program, cmd));
      if (r.valid) {
        if (opts.json) json({ valid: true, project: r.project, files: r.files, zones: r.zones, networks: r.networks });
        else if (!quiet(cmd)) out(`valid: project ${r.project}, ${r.zones} zone${r.zones === 1 ? '' : 's'}, ${r.networks} network${r.networks === 1 ? '' : 's'} (${r.files.length} file${r.files.length === 1 ? '' : 's'})`);
        return;
      }
      const { problemLines, problemsJson } = await import('../ui/problems.js');
      if (opts.json) json({ valid: false, errors: problemsJson(r.problems) });
      else process.stderr.write(problemLines(r.problems));
      code = 1;
    });

  withProjectOptions(program.command('config'))
    .description('print the fully resolved configuration (merged, defaults applied, interpolated, units normalised)')
    .option('--json', 'print JSON instead of YAML')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config } = await import('../app/config.js');
      const resolved = config(loadOptions(program, cmd));
      if (opts.json) json(resolved);
      else out((await import('yaml')).stringify(resolved, { lineWidth: 0 }));
    });


  withProjectOptions(program.command('plan'))
    .description('show what up would change: create, update in place, replace, delete, field by field')
    .option('--json', 'print the versioned JSON plan (schema/plan.schema.json)')
    .option('--detailed-exitcode', 'exit 2 when changes are pending, 0 when none')
    .option('--no-prune', 'keep zones and networks the files no longer declare')
    .action(async (opts: { json?: boolean; detailedExitcode?: boolean; prune: boolean }, cmd: Command) => {
      const [{ planProject }, { renderPlan, planJson, COLOR, PLAIN }, { hasErrors }] = await Promise.all([import('../app/plan.js'), import('../plan/render.js'), import('../plan/types.js')]);
      const plan = await planProject({ ...loadOptions(program, cmd), prune: opts.prune });
      if (opts.json) json(planJson(plan));
      else out(renderPlan(plan, plainOutput(cmd) ? PLAIN : COLOR));
      code = hasErrors(plan) ? 1 : opts.detailedExitcode && plan.actions.length > 0 ? 2 : 0;
    });

  withProjectOptions(program.command('up'))
    .description('plan, then apply with live progress; prunes what the files no longer declare')
    .option('--no-prune', 'keep zones and networks the files no longer declare')
    .option('--dry-run', 'only show the plan (same as zonectl plan)')
    .option('--watch', 'after applying, watch the files (and .env, and new files in a -f DIR) and apply every change; revert drift')
    .option('--debounce <ms>', 'with --watch: quiet time before a batch of file changes is applied (ms or a duration)', (v) => interval(v, 1), 100)
    .option('--resync <interval>', 'with --watch: re-observe the host and revert drift this often (e.g. 30s; 0: never)', (v) => interval(v, 1000), 30_000)
    .option('--hot-only', 'with --watch: apply only in-place changes and creations; replacements and deletions stay pending')
    .option('--json', 'with --watch: one JSON object per reconcile, one per line')
    .action(async (opts: { prune: boolean; dryRun?: boolean; watch?: boolean; debounce: number; resync: number; hotOnly?: boolean; json?: boolean }, cmd: Command) => {
      if (opts.watch) code = await watchCommand(program, cmd, { prune: opts.prune, debounceMs: opts.debounce, resyncMs: opts.resync, hotOnly: opts.hotOnly === true, json: opts.json === true });
      else {
        const watchOnly = ['json', 'hotOnly', 'debounce', 'resync'].filter((o) => cmd.getOptionValueSource(o) === 'cli');
        if (watchOnly.length > 0) {
          const { UserError } = await import('../app/errors.js');
          throw new UserError(`${watchOnly.map((o) => `--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only apply with --watch`);
        }
        code = await applyCommand('up', program, cmd, { prune: opts.prune, dryRun: opts.dryRun === true });
      }
    });

  withProjectOptions(program.command('down'))
    .description('stop and remove every zone and network of the project')
    .option('-v, --volumes', "also delete the zones' writable layers (copy-on-write roots)")
    .action(async (opts: { volumes?: boolean }, cmd: Command) => {
      code = await applyCommand('down', program, cmd, { prune: true, dryRun: false, volumes: opts.volumes === true });
    });

  withProjectOptions(program.command('ps'))
    .description('the project\'s zones: state, pid, addresses, uptime, limits')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [{ ps }, { psTable }] = await Promise.all([import('../app/ps.js'), import('../ui/zones.js')]);
      const rows = await ps(loadOptions(program, cmd));
      if (opts.json) json(rows);
      else out(psTable(rows, new Date()));
    });

  withProjectOptions(program.command('stats'))
    .description('live usage from the zones\' cgroups: cpu %, memory, pids, block I/O')
    .option('--no-stream', 'print one sample and exit')
    .option('--json', 'print JSON (one sample)')
    .action(async (opts: { stream: boolean; json?: boolean }, cmd: Command) => {
      const [{ openStats, sample }, { statsTable }] = await Promise.all([import('../app/stats.js'), import('../ui/zones.js')]);
      const src = await openStats(loadOptions(program, cmd));
      let { rows, reading } = await sample(src, 1000);
      if (opts.json) return json(rows);
      if (!opts.stream || !process.stdout.isTTY) return out(statsTable(rows));
      for (;;) {
        process.stdout.write(`\x1b[2J\x1b[H${statsTable(rows)}`);
        await new Promise((r) => setTimeout(r, 1000));
        ({ rows, reading } = await sample(src, 1000, reading));
      }
    });

  program
    .command('logs')
    .description("a zone's stdout and stderr (kept on disk with rotation)")
    .argument('<zone>', 'the zone')
    .option('-f, --follow', 'keep printing as the zone writes')
    .option('-n, --tail <lines>', 'only the last N lines', (v) => Number.parseInt(v, 10))
    .option('-p, --project-name <name>', 'project name')
    .action(async (zone: string, opts: { follow?: boolean; tail?: number }, cmd: Command) => {
      const { logs } = await import('../app/logs.js');
      const ctl = new AbortController();
      process.once('SIGINT', () => ctl.abort());
      for await (const chunk of await logs({ ...loadOptions(program, cmd) }, zone, { ...(opts.follow ? { follow: true } : {}), ...(opts.tail !== undefined ? { tail: opts.tail } : {}), signal: ctl.signal })) {
        process.stdout.write(chunk);
      }
    });

  withProjectOptions(program.command('exec'))
    .description('run a command inside a running zone (like Solaris zlogin)')
    .argument('<zone>', 'the zone')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-i, --interactive', 'keep stdin open (implied by -t)')
    .option('-t, --tty', 'allocate a terminal')
    .action(async (zone: string, command: string[], opts: { tty?: boolean }, cmd: Command) => {
      const { execIn } = await import('../app/logs.js');
      code = await execIn(loadOptions(program, cmd), zone, command, { tty: opts.tty === true });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    return await failure(err);
  }
}

/** Plain output: no terminal, CI set, or --no-color. */
function plainOutput(cmd: Command): boolean {
  return !process.stdout.isTTY || process.env.CI !== undefined || cmd.optsWithGlobals<{ color?: boolean }>().color === false;
}

async function applyCommand(which: 'up' | 'down', program: Command, cmd: Command, opts: { prune: boolean; dryRun: boolean; volumes?: boolean }): Promise<number> {
  const [app, ui, { progress }, { renderPlan, COLOR, PLAIN }] = await Promise.all([import('../app/up.js'), import('../ui/apply.js'), import('../ui/progress.js'), import('../plan/render.js')]);
  const quiet = cmd.optsWithGlobals<{ quiet?: boolean }>().quiet === true;
  // asked only when something is shown: a -q run that succeeds never sets up stdout (a stream
  // whose set-up costs 2-4 ms, more than the rest of the output path)
  const plain = () => plainOutput(cmd);
  let display: Awaited<ReturnType<typeof progress>> | undefined;
  const outcome = await (which === 'up' ? app.up : app.down)({
    ...loadOptions(program, cmd),
    prune: opts.prune,
    volumes: opts.volumes === true,
    onWait: (pid) => process.stderr.write(`waiting for another zonectl run on this project${pid ? ` (pid ${pid})` : ''}...\n`),
    onPlan: (plan) => {
      if (opts.dryRun) {
        out(renderPlan(plan, plain() ? PLAIN : COLOR));
        return false;
      }
      const diagnostics = ui.diagnosticsText(plan);
      if (diagnostics !== '') process.stderr.write(diagnostics);
      if (!quiet) out(ui.planHeadline(plan));
      return true;
    },
    events: {
      start: (a) => display?.events.start?.(a),
      step: (a, s) => display?.events.step?.(a, s),
      done: (a, r) => display?.events.done?.(a, r),
    },
    beforeApply: async (plan, run) => {
      display = await progress(plan, { plain: !quiet && plain(), quiet });
      return display.run(run);
    },
  });
  if (opts.dryRun) return outcome.plan.diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  if (outcome.removedLayers && !quiet) out(ui.removedLayersText(outcome.plan.project, outcome.removedLayers));
  if (!outcome.result) return outcome.plan.diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  // -q: only errors (a failed apply still names what failed)
  if (!outcome.result.ok || !quiet) (outcome.result.ok ? process.stdout : process.stderr).write(ui.resultText(outcome.plan, outcome.result));
  return outcome.result.ok ? 0 : 1;
}

/** A duration (`30s`, `500ms`, `1m30s`) or a plain number of `unit` ms, as milliseconds. */
function interval(value: string, unit: number): number {
  if (/^[0-9]+(\.[0-9]+)?$/.test(value)) return Math.round(Number(value) * unit);
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a duration (e.g. 30s, 500ms, 0)`);
  }
}

/** `up --watch`: runs until SIGINT or SIGTERM, then exits 0 (the zones keep running). */
async function watchCommand(program: Command, cmd: Command, opts: { prune: boolean; debounceMs: number; resyncMs: number; hotOnly: boolean; json: boolean }): Promise<number> {
  const [{ watchProject }, { watchLine, watchJson }, { problemLines }] = await Promise.all([import('../app/watch.js'), import('../ui/watch.js'), import('../ui/problems.js')]);
  const quiet = cmd.optsWithGlobals<{ quiet?: boolean }>().quiet === true;
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!stop.signal.aborted && !opts.json && !quiet) process.stderr.write(`${sig}: stopping the watch (the zones keep running)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await watchProject({
      ...loadOptions(program, cmd),
      prune: opts.prune,
      hotOnly: opts.hotOnly,
      debounceMs: opts.debounceMs,
      resyncMs: opts.resyncMs,
      signal: stop.signal,
      onWait: (pid) => process.stderr.write(`waiting for another zonectl run on this project${pid ? ` (pid ${pid})` : ''}...\n`),
      onWatching: ({ project, paths }) => {
        if (!opts.json && !quiet) process.stderr.write(`project ${project}: watching ${paths.join(', ')}\n`);
      },
      report: (r) => {
        if (opts.json) return out(JSON.stringify(watchJson(r)));
        if (r.problems.length > 0) process.stderr.write(problemLines(r.problems));
        if (quiet && (r.status === 'applied' || r.status === 'unchanged') && r.warnings.length === 0) return;
        if (r.trigger === 'resync' && r.status === 'unchanged' && r.warnings.length === 0) return; // no drift: nothing to say
        out(watchLine(r));
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** Maps any error to output and an exit code: a user mistake never shows a stack trace. */
async function failure(err: unknown): Promise<number> {
  if (err instanceof CommanderError) {
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 1;
  }
  const { ConfigError } = await import('../config/errors.js');
  if (err instanceof ConfigError) {
    const { problemLines } = await import('../ui/problems.js');
    process.stderr.write(problemLines(err.problems));
    return 1;
  }
  // Failures of the host (a kernel error, a missing permission) and mistakes the user can
  // fix carry their own plain message; anything else is a bug in zonectl.
  const e = err instanceof Error ? err : new Error(String(err));
  if (['UserError', 'HostError', 'SysError'].includes(e.name)) {
    process.stderr.write(`zonectl: ${e.message}${typeof process.getuid === 'function' && process.getuid() !== 0 && /EACCES|EPERM/.test(e.message) ? ' (zonectl needs root for this command)' : ''}\n`);
    return 1;
  }
  process.stderr.write(`zonectl: this is a bug, please report it: ${e.stack ?? e.message}\n`);
  return 1;
}
