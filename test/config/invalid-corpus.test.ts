// The corpus of invalid zones files (test/fixtures/invalid/NNN-what.yaml): each one is a
// mistake users make, and declares in its leading `# expect: LINE:COL key.path: message`
// lines every problem zonectl must report for it — no more, no fewer.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(repo, 'test/fixtures/invalid');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

/** Variables the corpus may rely on; everything else is unset. */
const ENV = { HOME: '/home/zonectl', EMPTY: '' };

interface Expectation {
  line: number;
  col: number;
  /** A fragment of `key.path: message`. */
  text: string;
}

function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const m = /^# expect: (\d+):(\d+) (.+)$/.exec(line);
    if (!m) break; // only the leading comment block declares expectations
    out.push({ line: Number(m[1]), col: Number(m[2]), text: m[3]! });
  }
  return out;
}

function problemsOf(file: string): ConfigProblem[] {
  try {
    loadConfig({ files: [file], env: ENV });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`${file} loaded without an error`);
}

const shown = (p: ConfigProblem): string => `${p.loc ? `${p.loc.line}:${p.loc.col}` : '-'} ${p.path ? `${p.path}: ` : ''}${p.message}`;

describe('the invalid corpus', () => {
  it('holds at least 60 files, each named NNN-what-is-wrong.yaml', () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
    for (const f of files) expect(f).toMatch(/^[0-9]{3}-[a-z0-9]+(-[a-z0-9]+)*\.yaml$/);
    expect(new Set(files.map((f) => f.slice(0, 3))).size).toBe(files.length);
  });

  it.each(files)('%s is rejected with exactly the expected problems', (name) => {
    const path = join(dir, name);
    const wanted = expectations(readFileSync(path, 'utf8'));
    expect(wanted.length, 'the file declares its expectations').toBeGreaterThan(0);
    const problems = problemsOf(path);
    const unmatched = [...problems];
    for (const w of wanted) {
      const i = unmatched.findIndex((p) => p.loc?.file === path && p.loc.line === w.line && p.loc.col === w.col && `${p.path}: ${p.message}`.includes(w.text.replace(/^: /, '')));
      expect(i, `no problem at ${w.line}:${w.col} matching ${JSON.stringify(w.text)}; got:\n${problems.map(shown).join('\n')}`).toBeGreaterThanOrEqual(0);
      unmatched.splice(i, 1);
    }
    expect(unmatched.map(shown), 'problems the file does not expect').toEqual([]);
  });
});

describe('zonectl validate on the corpus', () => {
  // The command as installed: package.json's "bin" (the CLI runs the build in dist/).
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(repo, pkg.bin.zonectl!);
  const slugs = ['memory-apples', 'yaml-bad-indentation', 'yaml-unclosed-quote', 'depends-on-cycle', 'interpolation-required-variable', 'ports-clash-all-addresses', 'zone-name-proto'];
  const sample = slugs.map((slug) => files.find((f) => f.endsWith(`-${slug}.yaml`)) ?? `missing: ${slug}`);

  it.each(sample)('%s: exit 1, the located line on stderr, no stack trace', (name) => {
    const path = join(dir, name);
    const [first] = expectations(readFileSync(path, 'utf8'));
    const r = spawnSync(process.execPath, [bin, 'validate', '-f', path], { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...ENV } });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${relative(repo, path)}:${first!.line}:${first!.col}: ${first!.text}`);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stderr).not.toContain('this is a bug');
    expect(r.stdout).toBe('');
  });
});
