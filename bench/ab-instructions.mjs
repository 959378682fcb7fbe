#!/usr/bin/env node
// Two builds of zonectl compared by the user-space instructions they run (valgrind --tool=callgrind,
// all threads): `--version`, and a no-op `up` of the cold-start zone (started once, before). On a
// host without hardware counters whose wall time moves by 10-20% between runs, these counts
// repeat to ~1-2%, so a change of ~1 ms of CPU shows where an A/B of wall times cannot resolve
// it. ~8 s a run under valgrind. A tool for judging a change, not a scenario of `npm run bench`:
// it writes nothing to RESULTS.md.
// Usage: node bench/ab-instructions.mjs OLD_TREE NEW_TREE [ROUNDS]   (each tree built: dist/ and native/)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { coldProject } from './cold-start.mjs';
import { assertBlockFree, isMain, main, onCleanup, root, run, stats } from './lib.mjs';

/** User-space instructions (callgrind's "I refs") of `node TREE/bin/zonectl.cjs ...args`. */
function instructions(tree, args) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', join(tree, 'bin', 'zonectl.cjs'), ...args], { encoding: 'utf8' });
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`valgrind zonectl ${args.join(' ')} (${tree}): exit ${r.status}\n${r.stderr.slice(-500)}`);
  return Number(m[1].replaceAll(',', ''));
}

if (isMain(import.meta.url)) {
  const [a, b, rounds = '3'] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: node bench/ab-instructions.mjs OLD_TREE NEW_TREE [ROUNDS]');
    process.exit(2);
  }
  const trees = [resolve(a), resolve(b)];
  for (const t of trees) if (!existsSync(join(t, 'dist', 'zonectl.js'))) throw new Error(`${t}: not a built zonectl tree (no dist/zonectl.js)`);
  await main('ab-instructions', async () => {
    run('bash', [join(root, 'scripts', 'install-test-deps.sh'), 'valgrind'], { timeout: 900_000 }); // when missing
    assertBlockFree();
    const dir = coldProject();
    const zonectl = (tree, args) => run('node', [join(tree, 'bin', 'zonectl.cjs'), ...args]);
    onCleanup(() => zonectl(trees[0], ['-q', '-f', dir, 'down', '--volumes']));
    zonectl(trees[0], ['-q', '-f', dir, 'up']);
    // by position, so that a tree against itself (the noise floor) works too
    const counts = trees.map(() => ({ version: [], noop: [] }));
    const label = (i) => `${'AB'[i]} ${trees[i]}`;
    for (let i = 0; i < Number(rounds); i++) {
      for (const [k, t] of trees.entries()) {
        const c = counts[k];
        c.version.push(instructions(t, ['--version']));
        c.noop.push(instructions(t, ['-q', '-f', dir, 'up']));
        console.log(`round ${i + 1}/${rounds} ${label(k)}: --version ${(c.version.at(-1) / 1e6).toFixed(1)} M, no-op up ${(c.noop.at(-1) / 1e6).toFixed(1)} M`);
      }
    }
    for (const [k, c] of counts.entries()) {
      const [v, n] = [stats(c.version), stats(c.noop)];
      console.log(`${label(k)}: --version median ${(v.median / 1e6).toFixed(1)} M (${(v.min / 1e6).toFixed(1)}-${(v.max / 1e6).toFixed(1)}), no-op up median ${(n.median / 1e6).toFixed(1)} M (${(n.min / 1e6).toFixed(1)}-${(n.max / 1e6).toFixed(1)})`);
    }
  });
}
