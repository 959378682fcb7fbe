#!/usr/bin/env node
// Start-up cost of `zonectl validate` against a bare `node -e 0`, measured in the same run,
// interleaved, so machine noise hits both alike. Prints min/median/max and the ratio of
// medians (target: ≤ 1.6). Usage: node bench/validate.mjs [RUNS] [-f FILE]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 40);
const file = process.argv.includes('-f') ? process.argv[process.argv.indexOf('-f') + 1] : 'samples/webstack';

// zonectl as a user runs it: the bin, exec'd (its shell line starts node without
// NODE_EXTRA_CA_CERTS); `node -e 0` with the environment as it is, and, when that variable is
// set, without it too: the start-up zonectl adds to node's own.
const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
const cases = {
  'node -e 0': [process.execPath, ['-e', '0']],
  [`zonectl validate -f ${file}`]: ['bin/zonectl.cjs', ['validate', '-q', '-f', file]],
  'zonectl --version': ['bin/zonectl.cjs', ['--version']],
  ...(process.env.NODE_EXTRA_CA_CERTS === undefined ? {} : { 'node -e 0, without NODE_EXTRA_CA_CERTS': [process.execPath, ['-e', '0'], bare] }),
};

function time([cmd, args, env]) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
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
if (rows[3]) console.log(`against node -e 0 without NODE_EXTRA_CA_CERTS: validate ${(rows[1].median / rows[3].median).toFixed(2)}×, --version ${(rows[2].median / rows[3].median).toFixed(2)}×`);
