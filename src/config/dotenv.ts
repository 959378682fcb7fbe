// The .env file beside the first zones file: KEY=VALUE lines, # comments, optional
// `export`, single quotes (literal) and double quotes (with \n, \t, \", \\ escapes).

import type { ConfigProblem } from './errors.js';

export function parseDotenv(text: string, file: string): { vars: Record<string, string>; problems: ConfigProblem[] } {
  const vars: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({ loc: { file, line: index + 1, col: raw.length - raw.trimStart().length + 1 }, path: '', message: `expected KEY=VALUE (got ${JSON.stringify(line.slice(0, 40))})` });
      return;
    }
    const [, key, rest] = m as unknown as [string, string, string];
    vars[key] = unquote(rest);
  });
  return { vars, problems };
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
  }
  const hash = v.search(/\s#/);
  return (hash >= 0 ? v.slice(0, hash) : v).trim();
}
