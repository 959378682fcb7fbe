#!/usr/bin/env node
// No-op `up` of N running zones (the scale project: sparse roots, limits, 2 segments), the
// quick way: up once, then `zonectl -q -f DIR up` on the converged project, `zonectl plan`
// and `zonectl validate` of the same files, interleaved with a bare `node -e 0`; down at the
// end. Prints medians and ratios; writes nothing to RESULTS.md (bench/scale.mjs does, with
// everything else). Target (issue 9): no-op up of 100 zones ≤ 250 ms.
// Usage: node bench/noop-up.mjs [ZONES=100] [RUNS=15]

import { assertBlockFree, downProject, fmt, interleave, isMain, main, onCleanup, stats, zonectl, ZONECTL } from './lib.mjs';
import { scaleProject } from './scale.mjs';

if (isMain(import.meta.url)) {
  const n = Number(process.argv[2] ?? 100);
  const runs = Number(process.argv[3] ?? 15);
  await main('noop-up', async () => {
    assertBlockFree();
    const dir = scaleProject(n);
    onCleanup(() => downProject(dir));
    zonectl(['-q', '-f', dir, 'up'], { timeout: 600_000 });
    const cases = {
      'node -e 0': { cmd: process.execPath, args: ['-e', '0'] },
      [`zonectl up (no-op, ${n} zones)`]: { cmd: ZONECTL, args: ['-q', '-f', dir, 'up'] },
      [`zonectl plan (${n} zones)`]: { cmd: ZONECTL, args: ['-f', dir, 'plan'] },
      [`zonectl validate (${n} zones)`]: { cmd: ZONECTL, args: ['validate', '-q', '-f', dir] },
    };
    console.log(`no-op up of ${n} zones, ${runs} interleaved rounds`);
    const samples = await interleave(cases, runs);
    const floor = stats(samples['node -e 0']).median;
    for (const [k, xs] of Object.entries(samples)) console.log(`  ${k.padEnd(40)} median ${fmt(stats(xs).median)} ms = ${(stats(xs).median / floor).toFixed(2)}× node -e 0`);
  });
}
