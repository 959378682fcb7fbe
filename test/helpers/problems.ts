// The problems a ConfigError carries, as compact lines (`zones.yaml:4:15 zones.web.limits.memory:
// "12 apples" is not a size ...`): easy to compare, and a failure shows everything reported.

import { basename } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../src/config/errors.js';

export function line(p: ConfigProblem): string {
  const where = p.loc ? `${basename(p.loc.file)}:${p.loc.line}:${p.loc.col} ` : '';
  return `${where}${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Runs fn, which must throw a ConfigError, and returns its problems as lines. */
export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(line);
    throw err;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}
