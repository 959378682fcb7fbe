// The command table: flags only, one lazily imported function per command, and the one
// place that turns results and errors into output and exit codes.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { LoadOptions } from '../config/load.js';

interface ProjectFlags {
  file?: string[];
  projectName?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
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

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    return await failure(err);
  }
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
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`zonectl: this is a bug, please report it: ${e.stack ?? e.message}\n`);
  return 1;
}
