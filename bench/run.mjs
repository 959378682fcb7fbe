#!/usr/bin/env node
// `npm run bench`: every scenario, one after the other, each as its own process (each checks
// that nothing zb-* is on the host before it starts, cleans up after itself even on failure,
// and rewrites its own section of bench/RESULTS.md). Start-up (bench/validate.mjs) is captured
// into its section here. A failed scenario is reported and the others still run.
// Usage: npm run bench [-- SCENARIO...]   (default: all, in priority order)

import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { factsMarkdown, loadavg, machineFacts, root, writeSection } from './lib.mjs';

const SCENARIOS = {
  peers: [],
  'cold-start': [],
  idempotence: [],
  scale: [],
  memory: [],
  plan: [],
  validate: [],
  exec: [],
};

function runScenario(name, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bench', `${name}.mjs`), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      process.stdout.write(b);
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SCENARIOS);
const failed = [];
for (const name of wanted) {
  if (!(name in SCENARIOS)) {
    console.error(`unknown scenario ${name} (one of ${Object.keys(SCENARIOS).join(', ')})`);
    failed.push(name);
    continue;
  }
  console.log(`\n=== ${name} (load average ${loadavg()})`);
  const facts = name === 'validate' ? machineFacts() : null;
  const { code, out } = await runScenario(name, SCENARIOS[name]);
  if (code !== 0) failed.push(name);
  if (name === 'validate' && code === 0) {
    writeSection(
      'startup',
      `## Start-up: validate and --version against node -e 0\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\nCommand: \`node bench/validate.mjs\` (40 interleaved runs of \`node -e 0\`, \`zonectl validate -q -f samples/webstack\` and \`zonectl --version\`, zonectl run as a user runs it: \`bin/zonectl.cjs\` exec'd), measured with the environment as it is (see NODE_EXTRA_CA_CERTS above); when NODE_EXTRA_CA_CERTS is set, \`node -e 0\` without it too, since the zonectl command starts node without it:\n\n\`\`\`\n${out.trim()}\n\`\`\`\n`,
    );
  }
}
console.log(failed.length ? `\nfailed: ${failed.join(', ')}` : '\nall scenarios ran');
process.exitCode = failed.length ? 1 : 0;
