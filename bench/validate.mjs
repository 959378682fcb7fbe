#!/usr/bin/env node
// Start-up cost of `zonectl validate` against a bare `node -e 0`, measured in the same run,
// interleaved, so machine noise hits both alike. Prints min/median/max and the ratio of
// medians (target: ≤ 1.6). Usage: node bench/validate.mjs [RUNS] [-f FILE]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 40);
const file = process.argv.includes('-f') ? process.argv[process.argv.indexOf('-f') + 1] : 'samples/webstack';

const cases = {
  'node -e 0': [process.execPath, ['-e', '0']],
  [`zonectl validate -f ${file}`]: [process.execPath, ['bin/zonectl.cjs', 'validate', '-q', '-f', file]],
  'zonectl --version': [process.execPath, ['bin/zonectl.cjs', '--version']],
};

function time([cmd, args]) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const c of Object.values(cases)) time(c); // warm the page cache
for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(cases)) samples[k].push(time(c));

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s.at(-1) };
};
const rows = Object.entries(samples).map(([k, xs]) => ({ case: k, ...stats(xs) }));
for (const r of rows) console.log(`${r.case.padEnd(45)} min ${r.min.toFixed(1)} ms  median ${r.median.toFixed(1)} ms  max ${r.max.toFixed(1)} ms`);
console.log(`ratio of medians: ${(rows[1].median / rows[0].median).toFixed(2)} (target ≤ 1.6), ${runs} runs each`);
console.log(`zonectl --version: ${(rows[2].median / rows[0].median).toFixed(2)} × node -e 0`);
