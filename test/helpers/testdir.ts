// testdir({ 'zones.yaml': '...' }): a temporary project directory built from an object
// literal, removed when the test that made it finishes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';

/** Relative path → file content. A path ending in '/' makes an empty directory. */
export type Tree = Readonly<Record<string, string>>;

export interface TestdirOptions {
  /** The project directory's own name (the default project name comes from it). */
  name?: string;
}

export function testdir(tree: Tree, opts: TestdirOptions = {}): string {
  const base = mkdtempSync(join(tmpdir(), 'zonectl-test-'));
  onTestFinished(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, opts.name ?? 'project');
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(tree)) {
    const path = join(dir, rel);
    if (rel.endsWith('/')) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}
