// The escape suite (root only): probe.c runs inside zones of a real project (two segments, limits)
// and tries what a zone must not do; every check must PASS. The same program run in a weak
// sandbox (plain `unshare`, root, every capability, no seccomp) must FAIL the same checks: a
// check that cannot fail proves nothing. What each sandbox cannot show is listed and explained.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { down, up } from '../../../src/app/up.js';
import { NativeZoneDriver } from '../../../src/host/zone/native.js';
import { HELPER_PATH } from '../../../src/native/index.js';
import { describeRoot } from '../../helpers/root.js';
import { type CheckResult, buildProbe, parseChecks } from './probe.js';

const project = `zt-esc-${randomBytes(4).toString('hex')}`;
const marker = `zt-esc-marker-${randomBytes(4).toString('hex')}`;
const MEMORY = 64 * 1024 * 1024;
const PIDS = 32;
const PORT = 7000;
const driver = new NativeZoneDriver();
let work = '';
let files: string[] = [];
let markerProc: ChildProcess | null = null;
let hostServer: Server | null = null;
let hostPort = 0;

/** Every check of probe.c, by the name it prints. */
const CHECKS = [
  'host-processes', 'signal-host', 'host-ns', 'ptrace', 'mount', 'write-proc-sys', 'write-sys', 'write-cgroup',
  'release-agent', 'load-module', 'mknod-block', 'open-block-device', 'open-by-handle', 'set-hostname', 'set-clock',
  'leaked-fd', 'memory-limit', 'pids-limit', 'reach-other-segment', 'reach-host',
];

function projectFile(dir: string, probeDir: string): string {
  const probeMount = `[{ source: ${probeDir}, target: /probe, read_only: true }]`;
  const file = join(dir, 'zones.yaml');
  writeFileSync(file, `name: ${project}
networks:
  a: { subnet: 10.213.216.0/24 }                 # pure L2: no host address, no route out
  b: { subnet: 10.213.217.0/24, gateway: true }  # the host is 10.213.217.1
x-probe: &probe
  mounts: ${probeMount}
  limits: { memory: ${MEMORY}, memory_swap: 0, pids: ${PIDS} }
  stop_grace_period: 1s
zones:
  probe:
    <<: *probe
    networks: { a: { address: 10.213.216.10 } }
  probe-userns:
    <<: *probe
    privileges: { userns: true }
    networks: { a: { address: 10.213.216.12 } }
  neighbor:
    <<: *probe
    command: [/probe/probe, listen, "${PORT}"]
    networks: { a: { address: 10.213.216.11 } }
  target:
    <<: *probe
    command: [/probe/probe, listen, "${PORT}"]
    networks: { b: { address: 10.213.217.10 } }
`);
  return file;
}

function hostNamespaces(): string[] {
  return ['mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup'].flatMap((k) => ['--host-ns', `${k}=${statSync(`/proc/self/ns/${k}`).ino}`]);
}

function probeArgs(scratch: string): string[] {
  return [
    'escape', '--marker', marker, '--marker-pid', String(markerProc?.pid ?? 0), ...hostNamespaces(),
    '--memory', String(MEMORY), '--pids', String(PIDS), '--scratch', scratch,
    '--connect', `other-segment=10.213.217.10:${PORT}`, '--connect', `host=10.213.217.1:${hostPort}`,
  ];
}

interface Run {
  code: number;
  out: string;
  checks: Record<string, CheckResult>;
}

/** Run argv with a host directory open as fd 3: a descriptor the zone must not inherit. */
function run(argv: string[]): Promise<Run> {
  const leak = openSync('/', 'r');
  return new Promise<Run>((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? '', args, { stdio: ['ignore', 'pipe', 'pipe', leak] });
    const out: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => out.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      resolve({ code: code ?? -1, out: text, checks: parseChecks(text) });
    });
  }).finally(() => closeSync(leak));
}

/** `zonectl exec ZONE -- probe ...`, as the CLI runs it: the helper, the zone's spec and init pid. */
async function inZone(zone: string, argv: string[]): Promise<Run> {
  const st = await driver.status(project, zone);
  if (st.state !== 'running') throw new Error(`zone ${zone} is ${st.state}`);
  return run([HELPER_PATH, 'exec', driver.paths.spec(project, zone), String(st.pid), '--', ...argv]);
}

function expectAll(r: Run, pass: boolean, names: readonly string[]): void {
  for (const name of names) {
    expect.soft(r.checks[name], `${name} ran`).toBeDefined();
    expect.soft(r.checks[name]?.pass, `${name}: ${r.checks[name]?.detail ?? 'missing'}`).toBe(pass);
  }
}

describeRoot('escape suite (real kernel)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'zt-esc-'));
    const probeDir = buildProbe(join(work, 'probe'));
    files = [projectFile(work, probeDir)];
    markerProc = spawn('/bin/sleep', ['600'], { argv0: marker, stdio: 'ignore' });
    hostServer = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => hostServer?.listen(0, '0.0.0.0', resolve));
    const addr = hostServer.address();
    hostPort = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const { result } = await up({ files, cwd: work });
    // what failed, by name, rather than only that something did
    const failed = [...(result?.results ?? [])].flatMap(([id, r]) => (r.status === 'failed' ? [`${id}: ${r.error.message}`] : []));
    expect(failed).toEqual([]);
    expect(result?.ok).toBe(true);
  });

  afterAll(async () => {
    try {
      if (files.length > 0) await down({ files, cwd: work, volumes: true });
    } finally {
      markerProc?.kill('SIGKILL');
      hostServer?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    }
    expect(existsSync(`/run/zonectl/${project}`)).toBe(false);
    expect(existsSync(`/var/lib/zonectl/projects/${project}`)).toBe(false);
  });

  it('the zone network works where it should: a neighbour on the same segment answers', async () => {
    const r = await inZone('probe', ['/probe/probe', 'connect', `10.213.216.11:${PORT}`]);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('every escape attempt fails in a default zone', async () => {
    const r = await inZone('probe', ['/probe/probe', ...probeArgs('/tmp')]);
    console.log(`default zone:\n${r.out}`);
    expectAll(r, true, CHECKS);
    expect(r.code).toBe(0);
  });

  it('every escape attempt fails in a zone with privileges.userns', async () => {
    const r = await inZone('probe-userns', ['/probe/probe', ...probeArgs('/tmp')]);
    console.log(`userns zone:\n${r.out}`);
    expectAll(r, true, CHECKS);
    expect(r.code).toBe(0);
    expect((await inZone('probe-userns', ['/probe/probe', 'connect', `10.213.216.11:${PORT}`])).code).toBe(0);
  });

  it('privileges.userns: root is an unprivileged host id; the layer, /etc, /proc, /sys and /dev work', async () => {
    const base = Number(new RegExp(`^(\\d+) ${project} probe-userns$`, 'm').exec(readFileSync('/var/lib/zonectl/userns', 'utf8'))?.[1]);
    expect(base).toBeGreaterThanOrEqual(1_000_000_000);
    const script = 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%u:%g" / /etc/hostname /tmp /dev; ' +
      'echo x > /etc/zt-esc-written && stat -c "%u:%g" /etc/zt-esc-written; ls /proc/self/ns >/dev/null && echo proc; ' +
      'cat /sys/class/net/lo/operstate; echo y > /dev/null && echo dev';
    const r = await inZone('probe-userns', ['/bin/sh', '-c', script]);
    const maps = r.out.split('\n').slice(0, 2).map((l) => l.trim().split(/\s+/).map(Number));
    expect(maps).toEqual([[0, base, 65536], [0, base, 65536]]);
    expect(r.out.split('\n').slice(2)).toEqual(['0', '0:0', '0:0', '0:0', '0:0', '0:0', 'proc', 'unknown', 'dev', '']);
    // on the host, what the zone's root wrote belongs to the zone's range, not to root
    const st = await driver.status(project, 'probe-userns');
    if (st.state !== 'running') throw new Error('probe-userns is not running');
    const upper = join(driver.paths.zoneLib(project, 'probe-userns'), 'upper-sparse-userns');
    expect(statSync(join(upper, 'zt-esc-written')).uid).toBe(base); // a sparse root's layer is its /etc
    // the zone's init entered it too, as its root: no process of the zone runs as host root
    expect(readFileSync(`/proc/${st.pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number)).toEqual([0, base, 65536]);
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${st.pid}/status`, 'utf8'))?.[1]).toBe(String(base));
    // the same reading in a default zone: its root is the host's root (the check can fail)
    const plain = await inZone('probe', ['/bin/cat', '/proc/self/uid_map']);
    expect(plain.out.trim().split(/\s+/)).toEqual(['0', '0', '4294967295']);
  });

  it('the checks bite in a weak sandbox: unshare --fork --pid --mount-proc --uts, as root', async () => {
    const scratch = mkdtempSync(join(work, 'scratch-'));
    const probe = join(work, 'probe', 'probe');
    const r = await run(['unshare', '--fork', '--pid', '--mount-proc', '--uts', probe, ...probeArgs(scratch)]);
    console.log(`weak sandbox:\n${r.out}`);
    // Cannot fail here: the sandbox has its own pid namespace (shown by the next test), and a
    // kernel without module support answers ENOSYS to everyone.
    const cannot = ['host-processes', 'signal-host', ...(existsSync('/proc/modules') ? [] : ['load-module'])];
    expectAll(r, false, CHECKS.filter((c) => !cannot.includes(c)));
    expect(r.code).toBe(1);
    expect(readdirSync(scratch)).toEqual([]); // the probe undid what it made
  });

  it('the process checks bite without a pid namespace: unshare --mount --uts, as root', async () => {
    const probe = join(work, 'probe', 'probe');
    const r = await run(['unshare', '--mount', '--uts', probe, ...probeArgs(work), 'host-processes', 'signal-host', 'host-ns', 'ptrace']);
    expectAll(r, false, ['host-processes', 'signal-host', 'host-ns', 'ptrace']);
    expect(r.checks.ptrace?.detail).toContain(`seized pid ${markerProc?.pid ?? 0}`);
  });
});
