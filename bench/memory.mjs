#!/usr/bin/env node
// Memory per zone at 100 zones: what zonectl leaves running for each zone (the supervisor and
// the zone's init: zonectl-init, a libc-free init from a memfd), read from /proc/PID/status (VmRSS) and
// /proc/PID/smaps_rollup (Pss: shared pages split between the processes sharing them), the
// zone's own command (sleep) reported apart; and the host's MemAvailable before and after up.
// Then the same count of containers with each peer, in the same run: what the peer leaves
// running beside each container's command (crun's and runc's own process in the foreground,
// podman's monitor conmon, bwrap's two), read the same way.
// Target (issue 9): ≤ 1 MiB per zone for zonectl's processes; no daemon.
// Usage: node bench/memory.mjs [ZONES]

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { assertBlockFree, downProject, factsMarkdown, fmt, isMain, loadavg, machineFacts, main, onCleanup, run, SCRATCH, sleep, stats, timeFn, writeSection, zonectl } from './lib.mjs';
import { crunNamespace, ensurePeers, makeBundle } from './peers.mjs';
import { scaleProject } from './scale.mjs';

const KiB = (s, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const meminfo = () => readFileSync('/proc/meminfo', 'utf8');

/** The children of every thread of `pid` (a multi-threaded runtime, runc, forks from any). */
const childrenOf = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return []; // gone
  }
};

function proc(pid) {
  const st = status(pid);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    pid,
    name: /^Name:\s+(.*)$/m.exec(st)[1],
    ppid: Number(/^PPid:\s+(\d+)/m.exec(st)[1]),
    rss: KiB(st, 'VmRSS'),
    pss: KiB(rollup, 'Pss'),
    children: childrenOf(pid),
  };
}

const alive = (pid) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(status(pid));

/** Polls `ready` every 5 ms until it returns a truthy value (returned), or throws after `ms`. */
async function until(what, ready, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = ready();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The peers, each a way to start one container of `bundle` (busybox `sleep`, the same namespaces
 * and limits as the zones) that stays running: start(id) resolves to the pids the peer leaves
 * running for it beside the container's own process; stop(id) ends the container by the peer's
 * own command and waits until nothing of it is left.
 */
function peers(bundle, crun) {
  const spawned = new Map(); // id → { child, exit }: the process started for it, and its exit
  const launch = (id, cmd, args) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    spawned.set(id, { child, exit: new Promise((resolve) => child.once('exit', resolve)) });
    return child;
  };
  /** Waits for the exit of the process started for `id`; SIGKILLs it (by its pid) after 10 s. */
  const reap = async (id) => {
    const s = spawned.get(id);
    if (!s) return;
    const late = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
    await s.exit;
    clearTimeout(late);
  };
  /** A runtime's `run` in the foreground: its own process stays, the container's parent. */
  const foreground = (argv) => ({
    async start(id) {
      const [cmd, args] = argv(['run', '-b', bundle, id]);
      const child = launch(id, cmd, args);
      await until(`${id}'s process`, () => childrenOf(child.pid).length > 0 || !alive(child.pid));
      if (!alive(child.pid)) throw new Error(`${cmd} ${args.join(' ')} ended at once`);
      return [child.pid];
    },
    async stop(id) {
      run(...argv(['kill', id, 'KILL']), { check: false });
      await reap(id);
    },
  });
  const initOf = new Map(); // id → bwrap's init, by which stop() ends the sandbox
  const conmonOf = new Map(); // id → conmon's pid
  return {
    // podman's arrangement: conmon runs `crun create` and stays as the container's monitor
    // (daemonized, as podman starts it), crun exits; then `crun start`
    conmon: {
      async start(id) {
        const dir = join(SCRATCH, 'conmon', id);
        mkdirSync(dir, { recursive: true });
        const pidFile = join(dir, 'conmon.pid');
        run(...crun.enter('conmon', ['--api-version', '1', '-c', id, '-u', id, '-n', id, '-r', '/usr/bin/crun', '-b', bundle, '-p', join(dir, 'pid'), '-P', pidFile, '-l', `k8s-file:${join(dir, 'log')}`, '--exit-dir', dir, '--socket-dir-path', dir, '--persist-dir', dir, '--log-level', 'error']));
        const pid = Number(readFileSync(pidFile, 'utf8'));
        conmonOf.set(id, pid);
        await until(`${id} created`, () => /"status": "created"/.test(run(...crun.wrap(['state', id]), { check: false }).stdout));
        run(...crun.wrap(['start', id]));
        await until(`${id}'s process`, () => childrenOf(pid).length > 0);
        return [pid];
      },
      async stop(id) {
        run(...crun.wrap(['kill', id, 'KILL']), { check: false });
        const pid = conmonOf.get(id);
        if (pid) await until(`conmon ${pid}'s exit`, () => !alive(pid));
        run(...crun.wrap(['delete', '-f', id]), { check: false });
        rmSync(join(SCRATCH, 'conmon', id), { recursive: true, force: true });
      },
    },
    'crun run': foreground((a) => crun.wrap(a)),
    // bwrap stays twice: the process that was started, and the pid namespace's init it forked
    bwrap: {
      async start(id) {
        const child = launch(id, 'bwrap', ['--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-ipc', '--unshare-cgroup', '--ro-bind', join(bundle, 'rootfs'), '/', '--proc', '/proc', '--dev', '/dev', '/bin/sleep', '3600']);
        const init = await until(`${id}'s init`, () => childrenOf(child.pid)[0]);
        initOf.set(id, init);
        await until(`${id}'s process`, () => childrenOf(init).length > 0);
        return [child.pid, init];
      },
      async stop(id) {
        const init = initOf.get(id);
        if (init && alive(init)) process.kill(init, 'SIGKILL'); // the namespace's init: everything in it goes
        await reap(id);
      },
    },
    'runc run': foreground((a) => ['runc', a]),
  };
}

/**
 * n containers with each peer, one peer at a time: per container, the RSS and PSS (KiB) of what
 * the peer leaves running; and how crun was run on this host.
 */
async function peerMemory(n) {
  ensurePeers();
  const crun = await crunNamespace(makeBundle()); // probes crun with `true`
  const bundle = makeBundle({ name: 'oci-bundle-sleep', args: ['/bin/sleep', '3600'] });
  const out = {};
  for (const [name, peer] of Object.entries(peers(bundle, crun))) {
    const ids = [];
    const started = [];
    const stopAll = async () => {
      for (const id of ids.splice(0)) await peer.stop(id);
    };
    const unregister = onCleanup(stopAll);
    try {
      for (let i = 0; i < n; i++) {
        const id = `zb-mem-${name.split(' ')[0]}-${process.pid}-${i}`;
        ids.push(id);
        started.push(await peer.start(id));
      }
      await sleep(1000);
      const per = started.map((pids) => pids.map(proc));
      out[name] = { rss: per.map((ps) => ps.reduce((a, p) => a + p.rss, 0)), pss: per.map((ps) => ps.reduce((a, p) => a + p.pss, 0)), processes: started[0].length };
      console.log(`${name}: ${n} containers, ${fmt(stats(out[name].rss).median, 0)} KiB RSS, ${fmt(stats(out[name].pss).median, 0)} KiB PSS each`);
    } finally {
      await stopAll();
      unregister();
    }
  }
  return { peers: out, crunNote: crun.note };
}

export function zoneProcesses(dir) {
  const zones = JSON.parse(zonectl(['-f', dir, 'ps', '--json']).stdout);
  return zones.map((z) => {
    const init = proc(z.pid);
    const supervisor = proc(init.ppid);
    const command = init.children.map(proc);
    return { zone: z.name, supervisor, init, command };
  });
}

if (isMain(import.meta.url)) {
  const n = Number(process.argv[2] ?? 100);
  await main('memory', async () => {
    const facts = machineFacts();
    assertBlockFree();
    const dir = scaleProject(n, 'zb-mem');
    onCleanup(() => downProject(dir));
    await sleep(500);
    const before = meminfo();
    const upMs = await timeFn(() => zonectl(['-q', '-f', dir, 'up'], { timeout: 600_000 }));
    await sleep(1000);
    const after = meminfo();
    const procs = zoneProcesses(dir);
    if (procs.length !== n) throw new Error(`${procs.length} zones of ${n} running`);
    const col = (f) => procs.map(f);
    const sup = { rss: col((p) => p.supervisor.rss), pss: col((p) => p.supervisor.pss) };
    const init = { rss: col((p) => p.init.rss), pss: col((p) => p.init.pss) };
    const cmd = { rss: col((p) => p.command.reduce((a, c) => a + c.rss, 0)), pss: col((p) => p.command.reduce((a, c) => a + c.pss, 0)) };
    const both = { rss: procs.map((p) => p.supervisor.rss + p.init.rss), pss: procs.map((p) => p.supervisor.pss + p.init.pss) };
    const availDelta = (KiB(before, 'MemAvailable') - KiB(after, 'MemAvailable')) / n;
    const usedDelta = ((KiB(after, 'MemTotal') - KiB(after, 'MemFree')) - (KiB(before, 'MemTotal') - KiB(before, 'MemFree'))) / n;
    const slabDelta = (KiB(after, 'Slab') - KiB(before, 'Slab')) / n;
    const row = (what, xs) => {
      const s = stats(xs);
      return `| ${what} | ${fmt(s.min, 0)} | ${fmt(s.median, 0)} | ${fmt(s.max, 0)} |`;
    };
    const table = [
      '| per zone (KiB) | min | median | max |',
      '| --- | --- | --- | --- |',
      row('supervisor (zonectl-helper) RSS', sup.rss),
      row('supervisor PSS', sup.pss),
      row('zone init (zonectl-init) RSS', init.rss),
      row('zone init PSS', init.pss),
      row('**zonectl per zone: supervisor + init RSS**', both.rss),
      row('**zonectl per zone: supervisor + init PSS**', both.pss),
      row('the zone\'s command (sleep) RSS, not zonectl\'s', cmd.rss),
    ].join('\n');
    console.log(table);
    downProject(dir); // before the peers, which start as many containers
    const { peers: peerMem, crunNote } = await peerMemory(n);
    const zonectlRss = stats(both.rss).median;
    const peerRow = (what, processes, m) =>
      `| ${what} | ${processes} | ${fmt(stats(m.rss).median, 0)} | ${fmt(stats(m.pss).median, 0)} | ${fmt(stats(m.rss).median / zonectlRss, 2)}× |`;
    const peerTable = [
      `| what stays running per zone or container, beside its command (${n} each, KiB, medians) | processes | RSS | PSS | RSS ÷ zonectl's |`,
      '| --- | --- | --- | --- | --- |',
      peerRow('**zonectl**: supervisor + zone init', 2, both),
      peerRow('conmon (podman\'s monitor; `crun create` and `crun start` exit)', peerMem.conmon.processes, peerMem.conmon),
      peerRow('`crun run` in the foreground (crun stays)', peerMem['crun run'].processes, peerMem['crun run']),
      peerRow('`bwrap` (the process started and its pid namespace\'s init)', peerMem.bwrap.processes, peerMem.bwrap),
      peerRow('`runc run` in the foreground (runc stays)', peerMem['runc run'].processes, peerMem['runc run']),
    ].join('\n');
    console.log(peerTable);
    console.log(`host MemAvailable − ${fmt(availDelta, 0)} KiB per zone, MemTotal−MemFree + ${fmt(usedDelta, 0)} KiB per zone, Slab + ${fmt(slabDelta, 0)} KiB per zone (up of ${n} zones took ${fmt(upMs)} ms)`);
    const perZoneMiB = stats(both.rss).median / 1024;
    writeSection(
      'memory',
      `## Memory per zone (${n} zones)\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/memory.mjs ${n}\`: ${n} zones as in the scale scenario (project zb-mem), up, 1 s settle; pids from \`zonectl ps --json\` (the zone's pid 1, zonectl-init) and their parent (the supervisor), read from /proc/PID/status and /proc/PID/smaps_rollup. No daemon: nothing else of zonectl stays running.\n\n${table}\n\n` +
        `- zonectl's own processes: ${fmt(perZoneMiB, 2)} MiB RSS per zone (target ≤ 1 MiB: ${perZoneMiB <= 1 ? 'met' : 'missed'}); PSS ${fmt(stats(both.pss).median / 1024, 2)} MiB (the static helper's text is shared).\n` +
        `- host, all of it per zone (kernel objects included: netns, veth, cgroups in ${facts.cgroups.startsWith('hybrid') ? '8 v1 hierarchies' : 'the unified hierarchy'}, mounts, the zone's own sleep; noisy: other work runs on this machine): MemAvailable −${fmt(availDelta, 0)} KiB, MemTotal−MemFree +${fmt(usedDelta, 0)} KiB, Slab +${fmt(slabDelta, 0)} KiB.\n\n` +
        `Next to the peers, in the same run: after zonectl's down, ${n} containers with each peer, one peer at a time, from one OCI bundle (busybox-static \`sleep 3600\`, the namespaces and limits of bench/peers.mjs), 1 s settle, the peer's own processes read the same way.\n\n${peerTable}\n\n` +
        `- \`crun run -d\` and \`runc run -d\` leave nothing running beside the container's command, and nothing that waits for it: no exit status kept, no output collected, no restart. That is the work podman gives conmon, and zonectl its supervisor (restarts, logs, the exit status for \`ps\`).\n` +
        `- ${crunNote}\n`,
    );
  });
}

