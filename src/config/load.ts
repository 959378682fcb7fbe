// Files → DesiredState: read, parse with positions, interpolate, merge, apply defaults,
// validate (precompiled schema, then semantic rules) and normalise. Every mistake found is
// reported at once, as a ConfigError carrying FILE:LINE:COL for each.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DesiredState } from '../model/types.js';
import { parseDotenv } from './dotenv.js';
import { ConfigError, sortProblems, type ConfigProblem, type Loc } from './errors.js';
import { interpolateTree, type Env } from './interpolate.js';
import { mergeNodes } from './merge.js';
import { normalise } from './normalise.js';
import { locIndex, toPlain, type LocIndex } from './plain.js';
import { parseYaml, type LMap, type LNode } from './source.js';
import { schemaProblems } from './validate.js';

export interface LoadOptions {
  /** -f values (files or directories); empty: $ZONECTL_FILE, else zones.yaml/zones.yml in cwd. */
  files?: readonly string[];
  /** -p value. */
  projectName?: string;
  /** Defaults to process.env. */
  env?: Env;
  cwd?: string;
}

export interface Loaded {
  desired: DesiredState;
  /** Every file that contributed: the zones files and the .env, if any (what watch mode watches). */
  sources: string[];
  /** Directories given with -f DIR (watch mode watches them for new files). */
  directories: string[];
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function loadConfig(opts: LoadOptions = {}): Loaded {
  const cwd = opts.cwd ?? process.cwd();
  const processEnv = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const fail = (): never => {
    throw new ConfigError(problems);
  };

  const { files, directories, dotenvDir } = resolveFiles(opts.files, processEnv, cwd, problems);
  if (problems.length > 0) fail();

  // .env beside the first file; the environment wins.
  const sources = [...files];
  const env: Record<string, string | undefined> = {};
  const dotenvPath = join(dotenvDir, '.env');
  if (existsSync(dotenvPath)) {
    sources.push(dotenvPath);
    const parsed = parseDotenv(readText(dotenvPath, problems) ?? '', dotenvPath);
    problems.push(...parsed.problems);
    Object.assign(env, parsed.vars);
  }
  Object.assign(env, processEnv);

  let root: LNode | undefined;
  for (const file of files) {
    const text = readText(file, problems);
    if (text === undefined) continue;
    const parsed = parseYaml(text, file);
    problems.push(...parsed.problems);
    const node = parsed.node ?? { kind: 'map', loc: { file, line: 1, col: 1 }, entries: new Map() };
    if (parsed.problems.length > 0) continue;
    if (node.kind === 'scalar' && node.value === null) continue; // an empty file
    if (node.kind !== 'map') {
      problems.push({ loc: node.loc, path: '', message: 'the file must be a map of keys (name, defaults, global, networks, zones)' });
      continue;
    }
    interpolateTree(node, env, [], problems);
    root = mergeNodes(root, node);
  }
  const top: LMap = root?.kind === 'map' ? root : { kind: 'map', loc: { file: files[0]!, line: 1, col: 1 }, entries: new Map() };
  applyDefaults(top);

  const index = locIndex(top);
  const plain = toPlain(top);
  // A value whose interpolation failed was reported already: the schema would only repeat it.
  const at = (p: ConfigProblem): string => `${p.path}@${p.loc?.file}:${p.loc?.line}:${p.loc?.col}`;
  const reported = new Set(problems.filter((p) => p.path !== '').map(at));
  problems.push(...schemaProblems(plain, index).filter((p) => !reported.has(at(p))));

  const project = projectName(opts.projectName, processEnv, plain, index, files[0]!, problems);
  const desired = normalise(plain, index, project, files, problems);
  if (problems.length > 0) throw new ConfigError(dedupe(sortProblems(problems, sources)), sources);
  return { desired, sources, directories };
}

function resolveFiles(given: readonly string[] | undefined, env: Env, cwd: string, problems: ConfigProblem[]) {
  let args = given && given.length > 0 ? [...given] : (env.ZONECTL_FILE?.split(':').filter(Boolean) ?? []);
  if (args.length === 0) {
    const found = ['zones.yaml', 'zones.yml'].find((f) => existsSync(join(cwd, f)));
    if (!found) {
      problems.push({ loc: null, path: '', message: `no zones.yaml in ${cwd} (give one with -f FILE or -f DIR)` });
      return { files: [], directories: [], dotenvDir: cwd };
    }
    args = [found];
  }
  const files: string[] = [];
  const directories: string[] = [];
  let dotenvDir: string | undefined;
  for (const arg of args) {
    const path = resolve(cwd, arg);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      problems.push({ loc: null, path: '', message: `cannot read ${arg}: ${reason(err)}` });
      continue;
    }
    if (isDir) {
      const inside = readdirSync(path)
        .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
        .sort()
        .map((f) => join(path, f));
      if (inside.length === 0) problems.push({ loc: null, path: '', message: `${arg} holds no *.yaml or *.yml file` });
      files.push(...inside);
      directories.push(path);
      dotenvDir ??= path;
    } else {
      files.push(path);
      dotenvDir ??= dirname(path);
    }
  }
  return { files, directories, dotenvDir: dotenvDir ?? cwd };
}

function readText(file: string, problems: ConfigProblem[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ loc: null, path: '', message: `cannot read ${file}: ${reason(err)}` });
    return undefined;
  }
}

function reason(err: unknown): string {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code ?? String(err);
}

/** `defaults` is merged under every zone: the zone's own value wins, maps merge, lists replace. */
function applyDefaults(top: LMap): void {
  const defaults = top.entries.get('defaults')?.value;
  const zones = top.entries.get('zones')?.value;
  if (defaults?.kind !== 'map' || zones?.kind !== 'map') return;
  for (const [name, entry] of zones.entries) {
    const own = entry.value.kind === 'scalar' && entry.value.value === null ? undefined : entry.value;
    zones.entries.set(name, { keyLoc: entry.keyLoc, value: own ? mergeNodes(defaults, own) : defaults });
  }
}

/** -p, then $ZONECTL_PROJECT_NAME, then `name:`, then the first file's directory name. */
function projectName(flag: string | undefined, env: Env, plain: unknown, index: LocIndex, firstFile: string, problems: ConfigProblem[]): string {
  const fromFile = plain && typeof plain === 'object' && 'name' in plain ? (plain as { name: unknown }).name : undefined;
  const chosen = flag ?? env.ZONECTL_PROJECT_NAME;
  if (chosen !== undefined) {
    if (!NAME_RE.test(chosen)) {
      problems.push({ loc: null, path: '', message: `project name ${JSON.stringify(chosen)} is not valid: use lowercase letters, digits and '-', at most 63 characters` });
    }
    return chosen;
  }
  if (typeof fromFile === 'string') return fromFile; // checked by the schema
  const dir = basename(dirname(firstFile));
  const normalised = dir.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63).replace(/-+$/, '');
  if (!NAME_RE.test(normalised)) {
    problems.push({ loc: index.get('')?.loc ?? null, path: 'name', message: `cannot derive a project name from the directory ${JSON.stringify(dir)}: set name: or use -p` });
  }
  return normalised;
}

/** A value inherited from `defaults` is reported once, at its place under `defaults`. */
function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Map<string, ConfigProblem>();
  const key = (p: ConfigProblem, l: Loc | null): string => `${l?.file}:${l?.line}:${l?.col}:${p.message}`;
  for (const p of problems) {
    const k = key(p, p.loc);
    const prev = seen.get(k);
    if (!prev || (p.path.startsWith('defaults') && !prev.path.startsWith('defaults'))) seen.set(k, p);
  }
  return [...seen.values()];
}
