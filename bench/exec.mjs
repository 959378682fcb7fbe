#!/usr/bin/env node
// A command run in a running zone: `zonectl exec z0 -- /bin/true`, next to the kernel's own
// tool (nsenter into the same namespaces: the floor, with no cgroup to join) and to `crun exec`
// in a running container (same namespaces, memory and pids limits), interleaved in one run.
// zonectl's own work is exec minus a bare start of the CLI (`zonectl --version`), as for the
// cold start; `zonectl-helper exec` is the same exec without node. Each exec follows a 50 ms
// pause: a user's exec comes alone, and a cgroup2 move made right after another skips the RCU
// grace period that one made alone waits for.
// Usage: node bench/exec.mjs [RUNS]

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { assertBlockFree, downProject, factsMarkdown, fmt, interleave, isMain, loadavg, machineFacts, main, onCleanup, ratio, root, run, sleep, stats, statsTable, writeProject, writeSection, zonectl, zoneYaml, ZONECTL } from './lib.mjs';
import { crunNamespace, ensurePeers, makeBundle } from './peers.mjs';

const PROJECT = 'zb-exec';
const HELPER = join(root, 'native', 'build', 'Release', 'zonectl-helper');

if (isMain(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 30);
  await main('exec', async () => {
    const facts = machineFacts();
    assertBlockFree();
    ensurePeers();
    const dir = writeProject(PROJECT, `name: ${PROJECT}\nnetworks:\n  net0:\n    subnet: 10.213.225.0/24\nzones:\n${zoneYaml('z0', { memory: '64M', pids: 32, cpus: 0.5, networks: ['net0'] })}`);
    onCleanup(() => downProject(dir));
    zonectl(['-q', '-f', dir, 'up']);
    const [z] = JSON.parse(zonectl(['-f', dir, 'ps', '--json']).stdout);
    const spec = `/run/zonectl/${PROJECT}/zones/z0/helper.spec`;

    const crun = await crunNamespace(makeBundle()); // probes crun with `true`
    const bundle = makeBundle({ name: 'oci-bundle-sleep', args: ['/bin/sleep', '3600'] });
    const id = `zb-exec-${process.pid}`;
    onCleanup(() => run(...crun.wrap(['delete', '-f', id]), { check: false }));
    // the container holds the pipes of whoever started it: nothing to wait on
    const started = spawnSync(...crun.wrap(['run', '-d', '-b', bundle, id]), { stdio: 'ignore' });
    if (started.status !== 0) throw new Error(`crun run -d ${id}: exit ${started.status}`);

    const pause = { pre: () => sleep(50) };
    const [crunCmd, crunArgs] = crun.wrap(['exec', id, '/bin/true']);
    const cases = {
      'nsenter (floor)': { cmd: 'nsenter', args: ['-t', String(z.pid), '-m', '-u', '-i', '-n', '-p', '-C', '/bin/true'], ...pause },
      'crun exec': { cmd: crunCmd, args: crunArgs, ...pause },
      ...(crun.nsenterTrue ? { 'nsenter -m true (crun wrapper)': { cmd: crun.nsenterTrue[0], args: crun.nsenterTrue[1], ...pause } } : {}),
      'zonectl --version': { cmd: ZONECTL, args: ['--version'], ...pause },
      'zonectl exec': { cmd: ZONECTL, args: ['-f', dir, 'exec', 'z0', '--', '/bin/true'], ...pause },
      'zonectl-helper exec (no node)': { cmd: HELPER, args: ['exec', spec, String(z.pid), '--', '/bin/true'], ...pause },
    };
    console.log(`exec in a running zone, ${runs} interleaved rounds`);
    const samples = await interleave(cases, runs);
    const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, stats(xs).median]));
    const floor = m['nsenter (floor)'];
    const crunNet = m['crun exec'] - (m['nsenter -m true (crun wrapper)'] ?? 0);
    const own = m['zonectl exec'] - m['zonectl --version'];
    const paired = stats(samples['zonectl exec'].map((t, i) => t - samples['zonectl --version'][i])).median;
    const lines = [
      `crun exec net of the nsenter wrapper: ${fmt(crunNet)} ms = ${ratio(crunNet, floor)} the floor`,
      `zonectl exec own work (median exec − median --version): ${fmt(own)} ms = ${ratio(own, floor)} the floor, ${ratio(own, crunNet)} crun exec net`,
      `zonectl exec own work, paired per round: ${fmt(paired)} ms = ${ratio(paired, floor)} the floor, ${ratio(paired, crunNet)} crun exec net`,
      `zonectl-helper exec (zonectl's exec without node): ${ratio(m['zonectl-helper exec (no node)'], floor)} the floor, ${ratio(m['zonectl-helper exec (no node)'], crunNet)} crun exec net`,
    ];
    for (const l of lines) console.log(`  ${l}`);
    const rows = Object.entries(samples).map(([k, xs]) => [k, xs, ratio(stats(xs).median, floor), ratio(stats(xs).median, crunNet)]);
    writeSection(
      'exec',
      `## Exec in a running zone\n\n${factsMarkdown({ ...facts, 'load average at end': loadavg() })}\n\n` +
        `Command: \`node bench/exec.mjs ${runs}\` — ${runs} interleaved rounds after one warm-up, each command after a 50 ms pause (a user's exec comes alone; on cgroup2 a move made right after another skips the RCU grace period). The zone: sparse root, \`/bin/sleep infinity\`, memory 64M, pids 32, cpus 0.5, one network; the container: \`crun run -d\` of an OCI bundle with busybox \`sleep 3600\`, the same namespaces, memory and pids limits. Each runs \`/bin/true\`.\n\n` +
        statsTable(rows, ['× floor', '× crun exec (net)']) +
        `\n\nExact commands:\n\n\`\`\`\n${Object.entries(cases).map(([k, c]) => `# ${k}\n${c.cmd} ${c.args.join(' ')}`).join('\n')}\n\`\`\`\n\n${lines.map((l) => `- ${l}`).join('\n')}\n- The floor, nsenter, joins no cgroup: zonectl-helper and crun join the zone's or the container's in every hierarchy.\n- ${crun.note}\n`,
    );
  });
}
