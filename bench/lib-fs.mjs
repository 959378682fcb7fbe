#!/usr/bin/env node
// What the filesystem under /var/lib/zonectl costs a zone: 10- and 100-zone ups (as in
// bench/scale.mjs), first with /var/lib/zonectl where it is, then on a fresh ext4 image with a
// journal (mkfs.ext4's defaults) loop-mounted over it. This CI host's root is ext4 without a
// journal, where allocating an inode reads past every inode deleted in the last seconds
// (`recently_deleted`): a fifth of an up's CPU here (bench/RESULTS.md, round 5).
// Each timed up follows an up and a down --volumes of the same project (a host that has been
// used), and the kernel's teardown before it is waited for as in scale.mjs.
// Not part of `npm run bench` (it mounts over zonectl's library directory for a while); it
// refuses to run while any zonectl project has state there, and unmounts and deletes the image
// however it ends.
// Usage: node bench/lib-fs.mjs [ROUNDS=3]

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { assertBlockFree, fmt, isMain, main, onCleanup, run, SCRATCH, sleep, stats, time, ZONECTL, zonectl } from './lib.mjs';
import { scaleProject } from './scale.mjs';

const LIB = '/var/lib/zonectl';
const IMAGE = join(SCRATCH, 'zb-lib-ext4.img');

function mounted() {
  return run('findmnt', ['-n', LIB], { check: false }).status === 0;
}

/** One timed up of `dir` after an up and a down of it; then down again. */
async function timedUp(dir) {
  zonectl(['-q', '-f', dir, 'up']);
  zonectl(['-q', '-f', dir, 'down', '--volumes']);
  await sleep(2000); // the kernel's namespace teardown runs after down returns
  const ms = time(ZONECTL, ['-q', '-f', dir, 'up']);
  zonectl(['-q', '-f', dir, 'down', '--volumes']);
  await sleep(2000);
  return ms;
}

async function measure(label, rounds, dirs) {
  const out = { 10: [], 100: [] };
  for (let r = 0; r < rounds; r++) {
    for (const n of [10, 100]) out[n].push(await timedUp(dirs[n]));
  }
  const m10 = stats(out[10]).median;
  const m100 = stats(out[100]).median;
  console.log(`${label}: 10 zones ${out[10].map((x) => fmt(x, 0)).join(', ')} ms; 100 zones ${out[100].map((x) => fmt(x, 0)).join(', ')} ms; marginal ${fmt((m100 - m10) / 90, 2)} ms a zone`);
}

if (isMain(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 3);
  await main('lib-fs', async () => {
    assertBlockFree();
    if (mounted()) throw new Error(`${LIB} is a mount point already: not mounting over it`);
    const projects = join(LIB, 'projects');
    if (existsSync(projects) && readdirSync(projects).length > 0) throw new Error(`${projects} holds projects: run this with no zonectl project on the host`);
    const dirs = { 10: scaleProject(10), 100: scaleProject(100) };
    for (const dir of Object.values(dirs)) onCleanup(() => zonectl(['-q', '-f', dir, 'down', '--volumes'], { check: false }));
    await measure(`${LIB} as it is (${run('findmnt', ['-n', '-o', 'FSTYPE', '-T', LIB]).stdout.trim()})`, rounds, dirs);
    onCleanup(() => rmSync(IMAGE, { force: true }));
    run('truncate', ['-s', '4G', IMAGE]);
    run('mkfs.ext4', ['-q', '-F', IMAGE]);
    run('mount', ['-o', 'loop', IMAGE, LIB]); // the loop device goes with the umount (autoclear)
    onCleanup(() => {
      for (const dir of Object.values(dirs)) zonectl(['-q', '-f', dir, 'down', '--volumes'], { check: false }); // their layers are on it
      if (mounted()) run('umount', [LIB]);
    });
    await measure('a journaled ext4 image on it', rounds, dirs);
  });
}
