// Configuration problems, for people (one located line each) and for --json.

import { displayFile, formatProblem, type ConfigProblem } from '../config/errors.js';

export function problemLines(problems: readonly ConfigProblem[]): string {
  const n = problems.length;
  return `${problems.map((p) => formatProblem(p)).join('\n')}\n${n} error${n === 1 ? '' : 's'}: nothing was applied\n`;
}

export function problemsJson(problems: readonly ConfigProblem[]): object[] {
  return problems.map((p) => ({
    file: p.loc ? displayFile(p.loc.file) : null,
    line: p.loc?.line ?? null,
    column: p.loc?.col ?? null,
    path: p.path,
    message: p.message,
  }));
}
