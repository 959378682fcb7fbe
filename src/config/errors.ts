// Located configuration errors: FILE:LINE:COL: key.path: what is wrong.

import { relative } from 'node:path';

export interface Loc {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export interface ConfigProblem {
  /** Where the offending value (or key) was written; null when it has no place in a file. */
  loc: Loc | null;
  /** Dotted key path (`zones.web.limits.memory`), or '' for the file as a whole. */
  path: string;
  message: string;
}

/** A user mistake in the configuration: never printed with a stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: ConfigProblem[];
  /** `fileOrder`: the files in merge order (their problems are listed in that order). */
  constructor(problems: ConfigProblem[], fileOrder: readonly string[] = []) {
    const sorted = sortProblems(problems, fileOrder);
    super(sorted.map((p) => formatProblem(p)).join('\n'));
    this.problems = sorted;
  }
}

/** Code-point order: deterministic, and no ICU collator to load. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortProblems(problems: readonly ConfigProblem[], fileOrder: readonly string[] = []): ConfigProblem[] {
  const rank = (f: string | undefined): number => (f === undefined ? -1 : fileOrder.includes(f) ? fileOrder.indexOf(f) : fileOrder.length);
  return [...problems].sort((a, b) =>
    rank(a.loc?.file) - rank(b.loc?.file) ||
    compareText(a.loc?.file ?? '', b.loc?.file ?? '') ||
    (a.loc?.line ?? 0) - (b.loc?.line ?? 0) ||
    (a.loc?.col ?? 0) - (b.loc?.col ?? 0) ||
    compareText(a.path, b.path) ||
    compareText(a.message, b.message),
  );
}

export function displayFile(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

export function formatProblem(p: ConfigProblem, cwd?: string): string {
  const where = p.loc ? `${displayFile(p.loc.file, cwd)}:${p.loc.line}:${p.loc.col}: ` : '';
  const path = p.path ? `${p.path}: ` : '';
  return `${where}${path}${p.message}`;
}

/** Dotted display of a key path; keys that are not identifiers are bracketed: io.devices["/dev/vda"]. */
export function dotted(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A value as shown in a message: strings quoted, long ones cut. */
export function show(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (v === null || v === undefined) s = 'null';
  else if (Array.isArray(v)) s = 'a list';
  else if (typeof v === 'object') s = 'a map';
  else s = String(v);
  return s.length > 60 ? `${s.slice(0, 56)}…${s.startsWith('"') ? '"' : ''}` : s;
}
