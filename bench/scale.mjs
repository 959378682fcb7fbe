#!/usr/bin/env node
// Scale: N zones (sparse root, limits, sleep) on 2 segments, N = 10, 100, 1000: `up` wall time,
// per-zone marginal cost between sizes, no-op `up` and `plan` at each size, `down` time; and the
// same network plumbing done with iproute2 (one `ip -batch` on the host + one `ip -n NS -batch`
// per zone) as the comparison, interleaved with zonectl at each size, and the sizes' rounds
// interleaved with each other.
// Targets (issue 9): 100 zones up ≤ 1 s, ≤ 5 ms marginal per zone, 1000 zones work; no-op up on
// 100 zones ≤ 250 ms.
// Usage: node bench/scale.mjs [SIZES=10,100,1000] [REPEATS]

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { cpus } from 'node:os';

import { assertBlockFree, downProject, factsMarkdown, fmt, isMain, loadavg, machineFacts, main, mountPoints, onCleanup, run, SCRATCH, stats, systemCpu, time, timeCpu, writeProject, writeSection, zonectl, ZONECTL, zoneYaml } from './lib.mjs';
import { crunNamespace, ensurePeers, makeBundle } from './peers.mjs';

const SEGMENTS = [
  { name: 'seg-a', subnet: '10.213.232.0/22', base: [10, 213, 232] },
  { name: 'seg-b', subnet: '10.213.236.0/22', base: [10, 213, 236] },
];

export function scaleProject(n, name = `zb-scale-${n}`) {
  let y = `name: ${name}\nnetworks:\n${SEGMENTS.map((s) => `  ${s.name}:\n    subnet: ${s.subnet}\n`).join('')}zones:\n`;
  for (let i = 0; i < n; i++) y += zoneYaml(`z${i}`, { memory: '32M', pids: 16, cpus: 0.1, networks: [SEGMENTS[i % 2].name] });
  return writeProject(name, y);
}

/** The address of zone i on its segment (the same scheme for the ip comparison). */
function address(i) {
  const k = Math.floor(i / 2) + 10;
  const [a, b, c] = SEGMENTS[i % 2].base;
  return `${a}.${b}.${c + Math.floor(k / 256)}.${k % 256}`;
}

const NETNS_DIR = '/run/netns';

/**
 * iproute2's first `netns add` on a host makes /run/netns and mounts it on itself (to share
 * it): when this run made it, it goes again at the end, empty.
 */
function cleanNetnsDirLater() {
  if (existsSync(NETNS_DIR)) return;
  onCleanup(() => {
    if (!existsSync(NETNS_DIR) || readdirSync(NETNS_DIR).length > 0) return;
    while (mountPoints().includes(NETNS_DIR)) run('umount', [NETNS_DIR]);
    rmdirSync(NETNS_DIR);
  });
}

/** The iproute2 comparison: namespaces, 2 bridges, a veth per zone, then address + up inside each. */
export function ipBatch(n) {
  const ns = (i) => `zb-ipb-${i}`;
  const up = () => {
    const host = [];
    for (let s = 0; s < 2; s++) host.push(`link add zbbr${s} type bridge`, `link set zbbr${s} up`);
    for (let i = 0; i < n; i++) {
      host.push(`netns add ${ns(i)}`, `link add zbv${i} type veth peer name eth0 netns ${ns(i)}`, `link set zbv${i} master zbbr${i % 2}`, `link set zbv${i} up`);
    }
    const file = join(SCRATCH, `ipb-up-${n}.batch`);
    writeFileSync(file, host.join('\n') + '\n');
    const zoneFile = (i) => {
      const f = join(SCRATCH, `ipb-zone-${i}.batch`);
      writeFileSync(f, `addr add ${address(i)}/22 dev eth0\nlink set eth0 up\nlink set lo up\n`);
      return f;
    };
    const files = Array.from({ length: n }, (_, i) => zoneFile(i)); // written before timing
    const cpu = systemCpu();
    const t = performance.now();
    time('ip', ['-batch', file]);
    for (let i = 0; i < n; i++) time('ip', ['-n', ns(i), '-batch', files[i]]);
    const ms = performance.now() - t;
    const after = systemCpu();
    return { ms, user: after.user - cpu.user, kernel: after.kernel - cpu.kernel };
  };
  const down = () => {
    const file = join(SCRATCH, `ipb-down-${n}.batch`);
    writeFileSync(file, [...Array.from({ length: n }, (_, i) => `netns del ${ns(i)}`), 'link del zbbr0', 'link del zbbr1'].join('\n') + '\n');
    const t = performance.now();
    time('ip', ['-force', '-batch', file]);
    // The kernel tears namespaces down asynchronously (cleanup_net): their veths outlive `ip
    // netns del`. Down is done when the last one is gone.
    const deadline = t + 120_000;
    while (run('ip', ['-o', 'link', 'show'], { check: false }).stdout.includes(': zbv')) {
      if (performance.now() > deadline) throw new Error('ip down: zbv* veths still there after 120 s');
      spawnSync('sleep', ['0.005']);
    }
    return performance.now() - t;
  };
  /** Cleanup after a failure: whatever exists goes, errors ignored. */
  const clean = () => {
    for (let i = 0; i < n; i++) run('ip', ['netns', 'del', ns(i)], { check: false });
    for (const b of ['zbbr0', 'zbbr1']) run('ip', ['link', 'del', b], { check: false });
  };
  return { up, down, clean };
}

/**
 * The peer at scale: n containers of `bundle` (busybox `sleep`, the zones' namespaces and
 * limits, no network) started one after another with `crun run -d`, as a tool without a daemon
 * would; down: `crun delete -f` each. Where crun runs through the nsenter wrapper
 * (bench/peers.mjs), the wrapper's own cost, timed in the same round, is taken off each call.
 */
export function crunDetached(n, crun, bundle) {
  const id = (i) => `zb-crund${n}-${i}`;
  const wrapper = () => {
    if (!crun.nsenterTrue) return 0;
    return stats(Array.from({ length: 10 }, () => time(...crun.nsenterTrue))).median;
  };
  const each = (args) => {
    const w = wrapper();
    let ms = 0;
    for (let i = 0; i < n; i++) ms += time(...crun.wrap(args(id(i))), { detached: true });
    return ms - n * w;
  };
  return {
    up: () => each((c) => ['run', '-d', '-b', bundle, c]),
    down: () => each((c) => ['delete', '-f', c]),
    /** Cleanup after a failure: every container of this size that is there goes. */
    clean: () => {
      const ids = run(...crun.wrap(['list', '-q']), { check: false }).stdout.split('\n').filter((c) => c.startsWith(`zb-crund${n}-`));
      for (const c of ids) run(...crun.wrap(['delete', '-f', c]), { check: false });
    },
  };
}

const zc = (args) => time(ZONECTL, args);

/** Settle time after the kernel's visible teardown (see settle()). */
const SETTLE_MS = 500;

/**
 * Before each timed up: the kernel tears network namespaces down asynchronously (cleanup_net)
 * after a down returns, and that work would be billed to whatever runs next. Wait until no
 * veth of an earlier phase is left (zonectl's of any size's project, the ip comparison's zbv*),
 * then a little more for the rest of the namespaces' teardown.
 */
function settle() {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const links = run('ip', ['-o', 'link', 'show'], { check: false }).stdout;
    if (!links.includes(': zbv') && !links.includes('alias zonectl/zb-scale-')) break;
    if (performance.now() > deadline) throw new Error('settle: veths of the previous phase still there after 120 s');
    spawnSync('sleep', ['0.01']);
  }
  spawnSync('sleep', [String(SETTLE_MS / 1000)]);
}

export async function scaleRounds(plan, out) {
  ensurePeers();
  const crun = await crunNamespace(makeBundle()); // probes crun with `true`
  const bundle = makeBundle({ name: 'oci-bundle-sleep', args: ['/bin/sleep', '3600'] });
  const sizes = plan.map(([n, repeats]) => {
    const project = `zb-scale-${n}`;
    const dir = scaleProject(n, project);
    const ipb = ipBatch(n);
    const peer = crunDetached(n, crun, bundle);
    const offs = [onCleanup(() => downProject(dir)), onCleanup(() => ipb.clean()), onCleanup(() => peer.clean())];
    // upCpu, ipCpu: the machine's CPU time (user, kernel) during each timed up
    const r = { n, up: [], upCpu: [], down: [], noop: [], plan: [], ipUp: [], ipCpu: [], ipDown: [], crunUp: [], crunDown: [], error: null };
    return { n, repeats, dir, ipb, peer, offs, r };
  });
  try {
    for (let k = 0; sizes.some((z) => k < z.repeats); k++) {
      for (const z of sizes) {
        if (k >= z.repeats || z.r.error !== null) continue;
        try {
          await scaleRound(z, k);
        } catch (e) {
          z.r.error = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e);
          console.error(`${z.n} zones failed: ${z.r.error}`);
          downProject(z.dir);
          z.ipb.clean();
          z.peer.clean();
        }
      }
    }
  } finally {
    for (const z of sizes) for (const off of z.offs) off();
  }
  for (const z of sizes) out.push(z.r);
  return { crunWrapped: Boolean(crun.nsenterTrue) };
}

/** One round at one size: zonectl's up, no-op ups and plans, down; then the ip plumbing's up and down, then crun's. */
async function scaleRound({ n, repeats, dir, ipb, peer, r }, k) {
  console.log(`${n} zones, round ${k + 1}/${repeats}: zonectl up`);
  settle();
  const up = await timeCpu(() => zonectl(['-q', '-f', dir, 'up'], { timeout: 3_600_000 }));
  r.up.push(up.ms);
  r.upCpu.push(up);
  const running = JSON.parse(zonectl(['-f', dir, 'ps', '--json']).stdout).filter((z) => z.state === 'running').length;
  if (running !== n) throw new Error(`after up, ${running} of ${n} zones are running`);
  console.log(`  up ${fmt(r.up.at(-1))} ms (${fmt(r.up.at(-1) / n, 2)} ms/zone); no-op up and plan`);
  for (let j = 0; j < 3; j++) {
    r.noop.push(zc(['-q', '-f', dir, 'up']));
    r.plan.push(zc(['-f', dir, 'plan']));
  }
  console.log(`  no-op up ${fmt(stats(r.noop).median)} ms, plan ${fmt(stats(r.plan).median)} ms; down`);
  r.down.push(zc(['-q', '-f', dir, 'down', '--volumes']));
  console.log(`  down ${fmt(r.down.at(-1))} ms; ip -batch plumbing`);
  settle();
  const ip = ipb.up();
  r.ipUp.push(ip.ms);
  r.ipCpu.push(ip);
  r.ipDown.push(ipb.down());
  console.log(`  ip plumbing up ${fmt(r.ipUp.at(-1))} ms (${fmt(r.ipUp.at(-1) / n, 2)} ms/zone), down ${fmt(r.ipDown.at(-1))} ms; crun run -d`);
  settle();
  r.crunUp.push(peer.up());
  r.crunDown.push(peer.down());
  console.log(`  crun run -d ${fmt(r.crunUp.at(-1))} ms (${fmt(r.crunUp.at(-1) / n, 2)} ms/container), delete ${fmt(r.crunDown.at(-1))} ms`);
}

export function scaleMarkdown(results) {
  const med = (xs) => (xs.length ? stats(xs).median : NaN);
  const lines = [
    '| zones | repeats | zonectl up | per zone | no-op up | plan | down | ip plumbing up | per zone | ip down | up ÷ ip | crun run -d | per container | crun delete | up ÷ crun | note |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.n} | ${r.up.length} | ${fmt(med(r.up))} | ${fmt(med(r.up) / r.n, 2)} | ${fmt(med(r.noop))} | ${fmt(med(r.plan))} | ${fmt(med(r.down))} | ${fmt(med(r.ipUp))} | ${fmt(med(r.ipUp) / r.n, 2)} | ${fmt(med(r.ipDown))} | ${(med(r.up) / med(r.ipUp)).toFixed(2)}× | ` +
        `${fmt(med(r.crunUp))} | ${fmt(med(r.crunUp) / r.n, 2)} | ${fmt(med(r.crunDown))} | ${(med(r.up) / med(r.crunUp)).toFixed(2)}× | ${r.error ? `FAILED: ${r.error}` : ''} |`,
    );
  }
  const marg = [];
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1];
    const b = results[i];
    marg.push(
      `- marginal cost ${a.n} → ${b.n} zones: zonectl up ${fmt((med(b.up) - med(a.up)) / (b.n - a.n), 2)} ms/zone, down ${fmt((med(b.down) - med(a.down)) / (b.n - a.n), 2)} ms/zone, no-op up ${fmt((med(b.noop) - med(a.noop)) / (b.n - a.n), 3)} ms/zone; ip plumbing ${fmt((med(b.ipUp) - med(a.ipUp)) / (b.n - a.n), 2)} ms/zone; crun run -d ${fmt((med(b.crunUp) - med(a.crunUp)) / (b.n - a.n), 2)} ms/container, delete ${fmt((med(b.crunDown) - med(a.crunDown)) / (b.n - a.n), 2)}`,
    );
  }
  const cpu = (xs, k) => med(xs.map((x) => x[k]));
  const n = cpus().length;
  const cpuLines = [
    `| zones | zonectl up: user | kernel | ip plumbing: user | kernel |`,
    '| --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.n} | ${fmt(cpu(r.upCpu, 'user'), 0)} | ${fmt(cpu(r.upCpu, 'kernel'), 0)} | ${fmt(cpu(r.ipCpu, 'user'), 0)} | ${fmt(cpu(r.ipCpu, 'kernel'), 0)} |`),
  ];
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1];
    const b = results[i];
    const per = (xs, ys, k) => (cpu(ys, k) - cpu(xs, k)) / (b.n - a.n);
    const user = per(a.upCpu, b.upCpu, 'user');
    const kernel = per(a.upCpu, b.upCpu, 'kernel');
    cpuLines.push(
      '',
      `- CPU per zone ${a.n} → ${b.n} zones, the whole machine: zonectl up ${fmt(user, 2)} ms user + ${fmt(kernel, 2)} ms kernel; ip plumbing ${fmt(per(a.ipCpu, b.ipCpu, 'user'), 2)} + ${fmt(per(a.ipCpu, b.ipCpu, 'kernel'), 2)} ms. On ${n} CPUs, that CPU time alone takes at least ${fmt((user + kernel) / n, 2)} ms a zone of wall time; the kernel's share alone, ${fmt(kernel / n, 2)} ms.`,
    );
  }
  return `${lines.join('\n')}\n\nAll times in ms, medians over the repeats (no-op up and plan: 3 runs per repeat).\n\n${marg.join('\n')}\n\nCPU time of the whole machine during each timed up (ms, medians; from /proc/stat, 10 ms ticks: it counts the helpers, the zones' commands and the kernel threads, which an up's own rusage does not):\n\n${cpuLines.join('\n')}`;
}

if (isMain(import.meta.url)) {
  const sizes = (process.argv[2] ?? '10,100,1000').split(',').map(Number);
  const repeatsArg = process.argv[3];
  await main('scale', async () => {
    const facts = machineFacts();
    assertBlockFree();
    cleanNetnsDirLater();
    const results = [];
    const { crunWrapped } = await scaleRounds(sizes.map((n) => [n, repeatsArg ? Number(repeatsArg) : n <= 100 ? 5 : 1]), results);
    const r100 = results.find((r) => r.n === 100);
    const targets = r100
      ? `\n\nTargets at 100 zones: up ≤ 1000 ms: ${stats(r100.up).median <= 1000 ? 'met' : 'missed'} (${fmt(stats(r100.up).median)}); no-op up ≤ 250 ms: ${stats(r100.noop).median <= 250 ? 'met' : 'missed'} (${fmt(stats(r100.noop).median)}).`
      : '';
    writeSection(
      'scale',
      `## Scale: N zones on 2 segments\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/scale.mjs ${sizes.join(',')}${repeatsArg ? ` ${repeatsArg}` : ''}\`. The sizes' rounds are interleaved (10, 100, 1000, 10, 100, ...: 5 rounds each up to 100 zones, 1 at 1,000), so that a drift of the host's speed weighs on every size alike. Before each timed up (zonectl's and the ip comparison's), the kernel's teardown of the previous phase's namespaces is waited for (no veth left, then ${SETTLE_MS} ms): it runs after a down has returned and would be billed to the next up. Each zone: sparse root, \`/bin/sleep infinity\`, memory 32M, pids 16, cpus 0.1, on one of 2 segments (${SEGMENTS.map((s) => s.subnet).join(', ')}). ` +
        'zonectl: `zonectl -q -f DIR up`, then 3 × (`up` again, `plan`), then `down --volumes`. ' +
        'iproute2 comparison, same plumbing without cgroups or processes: `ip -batch FILE` (2 bridges; per zone `netns add`, a veth with its peer born in the namespace, master, up), then per zone `ip -n NS -batch FILE` (address, eth0 up, lo up); down: one `ip -force -batch` (`netns del` each, bridges) and the wait until the kernel’s asynchronous namespace cleanup has removed the last veth. ' +
        'The peer: N containers from one OCI bundle (busybox-static `sleep 3600`, the namespaces of bench/peers.mjs, memory 64 MiB, pids 32; no network, no root of its own to make) started one after another with `crun run -d`, then `crun delete -f` each' +
        (crunWrapped ? '; crun runs in the nsenter wrapper of the floor and peers section (this host\'s hybrid cgroups), and the wrapper\'s cost, its median over 10 runs in the same round, is taken off each call' : '') +
        '.\n\n' +
        scaleMarkdown(results) +
        targets +
        '\n',
    );
  });
}
