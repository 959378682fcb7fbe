// The zone runtime against the real kernel (root only): NativeZoneDriver and zonectl-helper.
// Each check names the kernel fact it reads back; where a check could pass vacuously, the same
// check is shown to fail on the host (where isolation is absent).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { DEFAULT_CAPABILITIES } from '../../src/model/capabilities.js';
import type { Zone } from '../../src/model/types.js';
import type { ZoneStartOptions } from '../../src/host/zone/driver.js';
import { NativeZoneDriver } from '../../src/host/zone/native.js';
import { StateStore } from '../../src/host/state/store.js';
import type { RunDirHold } from '../../src/host/state/volatile.js';
import { HELPER_PATH } from '../../src/native/index.js';
import { netExec } from '../../src/native/net.js';
import { sha256File } from '../../src/host/zone/image.js';
import { capabilityMask } from '../../src/host/zone/spec.js';
import { describeRoot } from '../helpers/root.js';

const project = `zt-rt-${randomBytes(4).toString('hex')}`;
const LOG = { maxBytes: 4096, maxFiles: 3 };
let runHold: RunDirHold | undefined;
const driver = new NativeZoneDriver({ log: LOG });
const started = new Set<string>();
/** Every host pid the tests saw belong to a zone (inits, supervisors): none may outlive the suite. */
const seenPids = new Set<number>();
const seenPidNs = new Set<string>();
let work = '';
let imageTar = '';
let imageDigest = '';

function zone(name: string, over: Partial<Zone> = {}): Zone {
  return {
    name,
    hostname: name,
    root: { kind: 'sparse' },
    read_only: false,
    command: ['/bin/sleep', 'infinity'],
    workdir: '/',
    env: {},
    user: null,
    mounts: [],
    limits: {
      cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: null, memory_reservation: null,
      pids: null, io: { weight: 100, devices: {} },
    },
    networks: {},
    depends_on: [],
    restart: { policy: 'no' },
    ports: [],
    stop_grace_period: 2000,
    privileges: { capabilities: { add: [], drop: [] }, seccomp: 'default', userns: false },
    ...over,
  };
}

async function start(z: Zone, opts: ZoneStartOptions = {}) {
  started.add(z.name);
  const s = await driver.start(project, z, opts);
  seenPids.add(s.pid);
  try {
    seenPidNs.add(readlinkSync(`/proc/${s.pid}/ns/pid`));
  } catch {
    // a zone whose command exits at once may already be gone
  }
  const rec = readFileSync(driver.paths.record(project, z.name), 'utf8');
  seenPids.add(Number(/supervisor_pid=(\d+)/.exec(rec)?.[1]));
  return s;
}

async function sh(name: string, script: string) {
  return driver.exec(project, name, ['/bin/sh', '-c', script], { stdio: 'pipe' });
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function logText(name: string, opts: { tail?: number } = {}): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of driver.logs(project, name, opts)) parts.push(b);
  return Buffer.concat(parts).toString('utf8');
}

function procStatus(text: string, key: string): string {
  return new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
}

/** Host pids whose pid namespace is `ns` (e.g. 'pid:[4026532]'). */
function pidsInNamespace(ns: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) === ns) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function zonectlMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/zonectl/${project}`));
}

/**
 * A cgroup under zonectl's own name for this project, on the first writable hierarchy (v2
 * unified, else v1 pids); null when there is none. `match` finds its line in /proc/PID/cgroup.
 */
const CGROUP_MOUNTS = [
  ['/sys/fs/cgroup', '0::'],
  ['/sys/fs/cgroup/unified', '0::'],
  ['/sys/fs/cgroup/pids', ':pids:'],
] as const;

function makeCgroup(name: string, candidates: readonly (readonly [string, string])[] = CGROUP_MOUNTS): { dir: string; match: string; remove: () => void } | null {
  for (const [mnt, match] of candidates) {
    if (!existsSync(join(mnt, 'cgroup.procs'))) continue;
    const top = join(mnt, 'zonectl');
    const hadTop = existsSync(top);
    const dir = join(top, project, name);
    mkdirSync(dir, { recursive: true });
    return {
      dir,
      match,
      remove: () => {
        for (const d of [dir, join(top, project), ...(hadTop ? [] : [top])]) {
          try {
            rmdirSync(d);
          } catch {
            // busy (another project's cgroups under zonectl/) or already gone
          }
        }
      },
    };
  }
  return null;
}

/** A tiny root filesystem: a few host binaries with the libraries they link, /etc/passwd. */
function buildRootfs(dir: string): void {
  for (const d of ['usr/bin', 'usr/lib', 'usr/lib64', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  for (const [link, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['sbin', 'usr/bin']] as const) {
    execFileSync('ln', ['-s', target, join(dir, link)]);
  }
  const bins = ['sh', 'cat', 'ls', 'sleep', 'touch', 'hostname', 'id', 'echo', 'mkdir', 'grep', 'readlink'];
  const libs = new Set<string>();
  for (const b of bins) {
    const path = execFileSync('which', [b]).toString().trim();
    execFileSync('cp', ['-L', path, join(dir, 'usr/bin', b)]);
    for (const m of execFileSync('ldd', [path]).toString().matchAll(/(\/\S+)/g)) if (m[1]) libs.add(m[1]);
  }
  for (const lib of libs) {
    const rel = lib.replace(/^\/(usr\/)?/, 'usr/'); // /lib/x → usr/lib/x (merged /usr)
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    execFileSync('cp', ['-L', lib, join(dir, rel)]);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc/hostname'), 'image\n');
}

describeRoot('zone runtime (real kernel)', () => {
  beforeAll(async () => {
    // held as every writing zonectl run holds it: its tmpfs where /run is on disk, gone at the end
    runHold = await new StateStore().hold();
    work = mkdtempSync(join(tmpdir(), 'zt-rt-'));
    buildRootfs(join(work, 'rootfs'));
    imageTar = join(work, 'image.tar.gz');
    execFileSync('tar', ['-czf', imageTar, '-C', join(work, 'rootfs'), '.']);
    imageDigest = await sha256File(imageTar);
  });

  afterEach(async () => {
    for (const name of started) await driver.stop(project, name, 0);
    started.clear();
  });

  afterAll(async () => {
    for (const name of started) await driver.stop(project, name, 0);
    const names = existsSync(driver.paths.zoneLib(project, 'x').replace(/\/x$/, ''))
      ? readdirSync(driver.paths.zoneLib(project, 'x').replace(/\/x$/, ''))
      : [];
    for (const name of names) await driver.remove(project, name, { layers: true });
    const imageDir = join(driver.paths.images(), imageDigest);
    if (imageDigest) rmSync(imageDir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    // the leak check: nothing of this project is left on the host
    expect(zonectlMounts()).toEqual([]);
    expect(existsSync(driver.paths.projectRun(project))).toBe(false);
    expect(existsSync(join(driver.paths.libDir, 'projects', project))).toBe(false);
    expect([...seenPids].filter((p) => existsSync(`/proc/${p}`) && !isZombieOfOthers(p))).toEqual([]);
    for (const ns of seenPidNs) expect(pidsInNamespace(ns)).toEqual([]);
    await runHold?.release();
  });

  it('runs zonectl-init as pid 1 of a fresh pid namespace that shows no host process', async () => {
    const z = await start(zone('pid'));
    const r = await sh('pid', 'cat /proc/1/comm; ls /proc | grep -c "^[0-9]"');
    const [comm, count] = r.stdout.trim().split('\n');
    expect(comm).toBe('zonectl-init');
    // init, the command, the exec'd shell and grep/ls: a handful, never the host's hundreds
    expect(Number(count)).toBeLessThanOrEqual(5);
    expect(readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length).toBeGreaterThan(5); // the host's own view
    expect(readlinkSync(`/proc/${z.pid}/ns/pid`)).not.toBe(readlinkSync('/proc/self/ns/pid'));
  });

  it('pid 1 is a sealed memfd copy of zonectl-init: a few pages, not dumpable, CAP_KILL only', async () => {
    const z = await start(zone('tinyinit'));
    const status = readFileSync(`/proc/${z.pid}/status`, 'utf8');
    expect(procStatus(status, 'Name')).toBe('zonectl-init');
    expect(procStatus(status, 'CapEff')).toBe('0000000000000020'); // CAP_KILL: to signal a main process of another user
    expect(procStatus(status, 'CapPrm')).toBe('0000000000000020');
    expect(Number(procStatus(status, 'VmRSS').split(/\s+/)[0])).toBeLessThanOrEqual(64); // kB; the static helper keeps ~650
    expect(readlinkSync(`/proc/${z.pid}/exe`)).toBe('/memfd:zonectl-init (deleted)');
    // the zone's root cannot reach into it
    const r = await sh('tinyinit', 'cat /proc/1/mem; echo "mem $?"; readlink /proc/1/exe; echo "exe $?"');
    expect(r.stdout).toBe('mem 1\nexe 1\n');
    expect(r.stderr).toMatch(/\/proc\/1\/mem: Permission denied/);
    // it still does init's work: forwards SIGTERM to the main process and exits with its status
    await driver.stop(project, 'tinyinit', 5000);
    expect(await driver.status(project, 'tinyinit')).toEqual({ state: 'absent' });
  });

  it('sets the zone hostname in its own uts namespace', async () => {
    const before = hostname();
    await start(zone('uts', { hostname: 'zt-host-name' }));
    expect((await sh('uts', 'hostname')).stdout.trim()).toBe('zt-host-name');
    expect(hostname()).toBe(before);
  });

  it('gives a sparse zone a private, copy-on-write /etc and a read-only /usr', async () => {
    const marker = `zt-marker-${randomBytes(4).toString('hex')}`;
    await start(zone('sparse-a'));
    await start(zone('sparse-b'));
    expect((await sh('sparse-a', `echo a > /etc/${marker} && cat /etc/${marker}`)).stdout).toBe('a\n');
    expect(existsSync(`/etc/${marker}`)).toBe(false);
    expect((await sh('sparse-b', `test -e /etc/${marker}`)).exitCode).toBe(1);
    const usr = await sh('sparse-a', `touch /usr/${marker}`);
    expect(usr.exitCode).not.toBe(0);
    expect(usr.stderr).toMatch(/Read-only file system/);
    // the host's /etc is the lower layer: its files are visible
    expect((await sh('sparse-a', 'cat /etc/hostname')).stdout).toBe(readFileSync('/etc/hostname', 'utf8'));
  });

  it('unpacks an image once by digest; two zones from it see only their own writes', async () => {
    const image = { kind: 'image' as const, image: imageTar };
    await start(zone('img-a', { root: image }));
    await start(zone('img-b', { root: image }));
    const cache = join(driver.paths.images(), imageDigest);
    expect(statSync(join(cache, 'usr/bin/sh')).isFile()).toBe(true);
    expect((await sh('img-a', 'echo a > /marker; echo a > /etc/marker; cat /etc/hostname')).stdout).toBe('image\n');
    expect((await sh('img-b', 'echo b > /marker; cat /marker')).stdout).toBe('b\n');
    expect((await sh('img-a', 'cat /marker')).stdout).toBe('a\n');
    expect((await sh('img-b', 'test -e /etc/marker')).exitCode).toBe(1);
    expect(existsSync(join(cache, 'marker'))).toBe(false);
    expect(existsSync(join(cache, 'etc/marker'))).toBe(false);
  });

  it('uses a directory root as a lower layer without modifying it', async () => {
    const dir = join(work, 'rootfs');
    await start(zone('dir', { root: { kind: 'path', path: dir } }));
    expect((await sh('dir', 'echo x > /written; ls /')).exitCode).toBe(0);
    expect(existsSync(join(dir, 'written'))).toBe(false);
  });

  it('privileges.userns on a directory root and on an image root: root inside, an unprivileged id outside, lowers untouched', async () => {
    const dir = join(work, 'rootfs');
    const roots = { 'uns-dir': { kind: 'path' as const, path: dir }, 'uns-img': { kind: 'image' as const, image: imageTar } };
    for (const [name, root] of Object.entries(roots)) {
      const userns = { ...zone(name).privileges, userns: true };
      const z = await start(zone(name, { root, privileges: userns }));
      const base = Number(/^\s*0\s+(\d+)\s+65536$/m.exec(readFileSync(`/proc/${z.pid}/uid_map`, 'utf8'))?.[1]);
      expect(base, name).toBeGreaterThanOrEqual(1_000_000_000);
      // inside: root, and the root's files (host root's, in the lower layer) are the zone root's (idmapped)
      const r = await sh(name, 'id -u; echo x > /written && ls -lnd / /etc/hostname /written');
      const [uid, ...listed] = r.stdout.trim().split('\n');
      expect(uid, `${name}: ${r.stderr}`).toBe('0');
      expect(listed.map((l) => l.split(/\s+/).slice(2, 4).join(':')), `${name}: ${r.stdout}`).toEqual(['0:0', '0:0', '0:0']);
      // outside: what it wrote is in its layer, owned by its own host id; the lower has nothing new
      const upper = readdirSync(driver.paths.zoneLib(project, name)).find((d) => d.startsWith('upper-') && d.endsWith('-userns'));
      expect(upper, name).toBeDefined();
      expect(statSync(join(driver.paths.zoneLib(project, name), upper!)).uid, name).toBe(base);
      expect(statSync(join(driver.paths.zoneLib(project, name), upper!, 'written')).uid).toBe(base);
      expect(existsSync(join(root.kind === 'path' ? dir : join(driver.paths.images(), imageDigest), 'written'))).toBe(false);
      expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${z.pid}/status`, 'utf8'))?.[1]).toBe(String(base));
      await driver.stop(project, name, 1000);
      started.delete(name);
      await driver.remove(project, name, { layers: true }); // frees its id range too
    }
  });

  it('keeps the writable layer across a stop and remove without layers (down), and drops it with them (down --volumes)', async () => {
    const z = zone('layered', { command: ['/bin/sh', '-c', 'echo started; exec sleep infinity'] });
    await start(z);
    await sh('layered', 'echo kept > /etc/zt-layer');
    await waitFor('the log', async () => (existsSync(driver.paths.log(project, 'layered')) ? true : undefined));
    await driver.stop(project, 'layered', 1000);
    await driver.remove(project, 'layered', { layers: false });
    const dir = driver.paths.zoneLib(project, 'layered');
    expect(readdirSync(dir).sort()).toEqual(['upper-sparse', 'work-sparse']); // the log went, the layer stayed
    // made by the helper: the layer's top is the zone's to write, its overlay work directory is the kernel's alone
    expect(['', '/upper-sparse', '/work-sparse'].map((d) => (statSync(dir + d).mode & 0o777).toString(8))).toEqual(['755', '755', '700']);
    await start(z);
    expect((await sh('layered', 'cat /etc/zt-layer')).stdout).toBe('kept\n');
    await driver.stop(project, 'layered', 1000);
    started.delete('layered');
    await driver.remove(project, 'layered', { layers: true });
    expect(existsSync(dir)).toBe(false);
  });

  it('applies bind and tmpfs mounts and enforces read_only', async () => {
    const rw = mkdtempSync(join(work, 'rw-'));
    const ro = mkdtempSync(join(work, 'ro-'));
    writeFileSync(join(ro, 'seen'), 'from host\n');
    await start(zone('mounts', {
      root: { kind: 'path', path: join(work, 'rootfs') },
      read_only: true,
      mounts: [
        { type: 'bind', source: rw, target: '/data', read_only: false },
        { type: 'bind', source: ro, target: '/srv/ro', read_only: true },
        { type: 'tmpfs', target: '/scratch', size: 1024 * 1024 },
      ],
    }));
    expect((await sh('mounts', 'echo hi > /data/f')).exitCode).toBe(0);
    expect(readFileSync(join(rw, 'f'), 'utf8')).toBe('hi\n');
    expect((await sh('mounts', 'cat /srv/ro/seen')).stdout).toBe('from host\n');
    expect((await sh('mounts', 'touch /srv/ro/x')).stderr).toMatch(/Read-only file system/);
    expect((await sh('mounts', 'touch /x')).stderr).toMatch(/Read-only file system/);
    expect((await sh('mounts', 'touch /etc/x')).stderr).toMatch(/Read-only file system/);
    expect((await sh('mounts', 'touch /tmp/x /run/x /scratch/x')).exitCode).toBe(0);
    const mounts = (await sh('mounts', 'cat /proc/self/mounts')).stdout;
    expect(mounts).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,relatime,size=1024k/m);
    expect(mounts).toMatch(/^overlay \/ overlay ro,/m);
  });

  it('masks the paths runc masks and keeps /proc/sys and /sys read-only', async () => {
    await start(zone('masked'));
    // the host shows these (the check can fail)...
    expect(readFileSync('/proc/timer_list', 'utf8').length).toBeGreaterThan(0);
    // ...the zone does not
    const r = await sh('masked', 'cat /proc/timer_list /proc/keys /proc/sched_debug 2>/dev/null | wc -c; ls /sys/firmware | wc -l');
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '0']);
    expect((await sh('masked', 'echo x > /proc/sys/kernel/hostname')).stderr).toMatch(/Read-only file system/);
    expect((await sh('masked', 'echo h > /proc/sysrq-trigger')).exitCode).not.toBe(0);
    expect((await sh('masked', 'touch /sys/x')).stderr).toMatch(/Read-only file system/);
    const dev = (await sh('masked', 'ls /dev')).stdout.split('\n').filter(Boolean).sort();
    // /dev/console is the null device: a sink, never the host's console
    expect((await sh('masked', 'stat -c %t:%T /dev/console')).stdout.trim()).toBe('1:3');
    expect(dev).toEqual(['console', 'fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  });

  it('keeps the zone away from its init\'s host binary (/proc/1/exe, CVE-2019-5736)', async () => {
    await start(zone('exe'));
    // a process may read its own exe link (the check can pass)...
    expect((await sh('exe', 'readlink /proc/$$/exe')).stdout).toBe('/usr/bin/dash\n');
    // ...but not the init's (zonectl-init, from a sealed memfd)
    const r = await sh('exe', 'readlink /proc/1/exe; cat /proc/1/environ');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it('reduces capabilities to the configured set and sets no_new_privs', async () => {
    const hostEff = procStatus(readFileSync('/proc/self/status', 'utf8'), 'CapEff');
    const z = zone('caps', {
      command: ['/bin/sh', '-c', 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; sleep infinity'],
      privileges: { capabilities: { add: ['CAP_NET_RAW'], drop: ['CAP_CHOWN'] }, seccomp: 'default', userns: false },
    });
    await start(z);
    const mask = capabilityMask(z);
    const status = await waitFor('the status lines', async () => {
      const t = await logText('caps');
      return t.includes('NoNewPrivs') ? t : undefined;
    });
    expect(hostEff).not.toBe(mask); // the host runs with more: the check can fail
    expect(procStatus(status, 'CapEff')).toBe(mask);
    expect(procStatus(status, 'CapPrm')).toBe(mask);
    expect(procStatus(status, 'CapBnd')).toBe(mask);
    expect(procStatus(status, 'CapInh')).toBe('0000000000000000');
    expect(procStatus(status, 'CapAmb')).toBe('0000000000000000');
    expect(procStatus(status, 'NoNewPrivs')).toBe('1');
    // Podman's default 800405fb, plus NET_RAW (bit 13), minus CHOWN (bit 0)
    expect(mask).toBe('00000000800425fa');
    expect(DEFAULT_CAPABILITIES).toHaveLength(11);
    // exec gets the same privileges
    const e = (await sh('caps', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status')).stdout;
    expect(procStatus(e, 'CapEff')).toBe(mask);
    expect(procStatus(e, 'NoNewPrivs')).toBe('1');
  });

  it('filters system calls by default (seccomp), and not when unconfined', async () => {
    const probe = 'grep -E "^Seccomp:" /proc/self/status; unshare --user true && echo unshare-ok; unshare --fork --pid true && echo clone-ok';
    const unconfined = { capabilities: { add: [], drop: [] }, seccomp: 'unconfined' as const, userns: false };
    await start(zone('sec-default'));
    await start(zone('sec-off', { privileges: unconfined }));
    // unconfined, the same probe gets through (user namespaces need no capability): the check can fail
    const off = await sh('sec-off', probe);
    expect(off.stdout).toMatch(/^Seccomp:\s+0\nunshare-ok\n/);
    const on = await sh('sec-default', probe);
    expect(on.stdout).toMatch(/^Seccomp:\s+2\n$/);
    expect(on.stderr).toMatch(/unshare failed: Operation not permitted/);
  });

  it('runs as another user with no capabilities at all', async () => {
    await start(zone('user', { root: { kind: 'path', path: join(work, 'rootfs') }, user: 'nobody' }));
    const r = (await sh('user', 'id -u; id -g; grep -E "^CapEff" /proc/self/status')).stdout.split('\n');
    expect(r.slice(0, 3)).toEqual(['65534', '65534', 'CapEff:\t0000000000000000']);
  });

  it('starts the command and exec with every signal at its default disposition, none blocked', async () => {
    await start(zone('signals', { command: ['/bin/sh', '-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status > /tmp/sig; exec sleep infinity'] }));
    const want = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n';
    expect((await waitFor('the command', async () => (await sh('signals', 'cat /tmp/sig 2>/dev/null')).stdout || undefined))).toBe(want);
    expect((await sh('signals', 'grep -E "^Sig(Ign|Blk)" /proc/self/status')).stdout).toBe(want);
    // where nothing resets them, the same check fails: a process started with SIGHUP ignored (nohup)
    expect(execFileSync('nohup', ['grep', '^SigIgn', '/proc/self/status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).not.toBe('SigIgn:\t0000000000000000\n');
  });

  it('passes no descriptor beyond 0, 1 and 2 to the zone', async () => {
    await start(zone('fds', { command: ['/bin/sh', '-c', 'ls /proc/self/fd; echo done; sleep infinity'] }));
    const out = await waitFor('the listing', async () => {
      const t = await logText('fds');
      return t.includes('done') ? t : undefined;
    });
    // 3 is the directory ls is reading
    expect(out.trim().split('\n')).toEqual(['0', '1', '2', '3', 'done']);
    expect((await sh('fds', 'ls /proc/self/fd')).stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
  });

  it('marks the project\'s directory of zone layers TOPDIR on ext2/3/4 (each zone\'s layer in a block group of its own)', async () => {
    await start(zone('topdir'));
    const zones = dirname(driver.paths.zoneLib(project, 'topdir'));
    // f_type of statfs: ext2, ext3 and ext4 share 0xEF53; other filesystems have no such flag
    const ext = execFileSync('stat', ['-f', '-c', '%t', zones], { encoding: 'utf8' }).trim() === 'ef53';
    if (!ext) console.warn(`${zones} is not on ext2/3/4: its TOPDIR flag is not checked`);
    else expect(execFileSync('lsattr', ['-d', zones], { encoding: 'utf8' }).split(' ')[0]).toContain('T');
  });

  it('gives the zone its own network namespace with loopback up, held by its supervisor and by no mount', async () => {
    const z = await start(zone('net'));
    const st = await driver.status(project, 'net');
    if (st.state !== 'running') throw new Error(`zone net is ${st.state}`);
    expect(st.netns).toMatch(/^\/proc\/\d+\/ns\/net$/);
    expect(readlinkSync(st.netns!)).toBe(readlinkSync(`/proc/${z.pid}/ns/net`));
    expect(readlinkSync(`/proc/${z.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(zonectlMounts()).toEqual([]);
    const r = await sh('net', 'ls /sys/class/net; cat /sys/class/net/lo/operstate /proc/sys/net/ipv4/ping_group_range');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['lo', 'unknown', '0\t2147483647']);
  });

  it('exec enters the zone and passes the exit code through', async () => {
    await start(zone('exec', { root: { kind: 'path', path: join(work, 'rootfs') }, hostname: 'exec-host', env: { ZT: 'yes' } }));
    const r = await sh('exec', 'cat /proc/1/comm; hostname; cat /etc/hostname; echo $ZT; exit 42');
    expect(r.stdout).toBe('zonectl-init\nexec-host\nimage\nyes\n');
    expect(r.exitCode).toBe(42);
    const missing = await driver.exec(project, 'exec', ['no-such-command'], { stdio: 'pipe' });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/execve no-such-command: ENOENT/);
    await expect(driver.exec(project, 'absent', ['true'], { stdio: 'pipe' })).rejects.toMatchObject({ code: 'ESRCH' });
  });

  it('exec -t gives the command a terminal from the zone\'s own devpts', async () => {
    await start(zone('tty'));
    const r = await driver.exec(project, 'tty', ['/bin/sh', '-c', 'tty; test -t 0 && echo stdin-tty; exit 4'], { tty: true, stdio: 'pipe' });
    expect(r.stdout.replace(/\r/g, '')).toBe('/dev/pts/0\nstdin-tty\n'); // a fresh devpts instance: the first pty is 0
    expect(r.exitCode).toBe(4);
    // the zone's /dev/ptmx is the zone's to change; exec -t, host root there, does not follow it
    expect((await sh('tty', 'ln -sf /dev/null /dev/ptmx && readlink /dev/ptmx')).stdout).toBe('/dev/null\n');
    const again = await driver.exec(project, 'tty', ['/bin/sh', '-c', 'tty'], { tty: true, stdio: 'pipe' });
    expect(again.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/\d+\n$/);
  });

  it("joins the cgroups it is given and roots its cgroup namespace there, and so does exec's command (cloned into a cgroup2 one, its helper moved into a v1 one), with and without userns", async () => {
    // each kind of hierarchy the host has: a v1 one (exec's helper moves itself, its command is
    // born there) and a cgroup2 one (the command is cloned into it: nothing moves, which on
    // cgroup2 waits for an RCU grace period)
    const kinds = [CGROUP_MOUNTS.filter(([m]) => m.endsWith('/pids')), CGROUP_MOUNTS.filter(([m]) => !m.endsWith('/pids'))];
    let tried = 0;
    for (const [i, candidates] of kinds.entries()) {
      for (const userns of [false, true]) {
        const name = `cg${i}${userns ? 'u' : ''}`;
        const leaf = makeCgroup(name, candidates);
        if (leaf === null) continue;
        tried++;
        const procs = join(leaf.dir, 'cgroup.procs');
        const cgroup2 = leaf.match === '0::';
        let running: ReturnType<typeof sh> | null = null;
        try {
          const over: Partial<Zone> = userns ? { root: { kind: 'path', path: join(work, 'rootfs') }, privileges: { ...zone('x').privileges, userns: true } } : {};
          const z = await start(zone(name, over), { cgroupProcs: [procs] });
          expect(readFileSync(procs, 'utf8').split('\n')).toContain(String(z.pid));
          // inside, the zone's cgroup is the root of its view; so is exec's command's
          const self = (await sh(name, `grep -h '${leaf.match}' /proc/1/cgroup /proc/self/cgroup; id -u`)).stdout.trim().split('\n');
          expect(self).toHaveLength(3);
          for (const line of self.slice(0, 2)) expect(line.endsWith(':/')).toBe(true);
          expect(self[2]).toBe('0'); // root in the zone: in its user namespace with userns
          // and with a terminal from the zone's devpts
          const t = await driver.exec(project, name, ['/bin/sh', '-c', `readlink /proc/self/fd/0; grep -h '${leaf.match}' /proc/self/cgroup; id -u`], { tty: true, stdio: 'pipe' });
          expect(t.stdout.replace(/\r/g, '')).toBe(`/dev/pts/0\n${self[1]}\n0\n`);
          // where the namespace is not rooted there, the same check fails: the host's view of the zone
          expect(readFileSync(`/proc/${z.pid}/cgroup`, 'utf8')).toContain(`/zonectl/${project}/${name}`);
          // while an exec runs: its command is in the zone's cgroup; its helper is too on v1 only
          running = sh(name, 'exec sleep 1.5');
          const helper = await waitFor('the exec\'s command in the cgroup', async () => {
            for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number)) {
              if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== 'sleep\x001.5\x00') continue;
              const parent = Number(procStatus(readFileSync(`/proc/${pid}/status`, 'utf8'), 'PPid'));
              if (readFileSync(`/proc/${parent}/cmdline`, 'utf8').split('\0')[1] === 'exec') return parent;
            }
            return undefined;
          });
          expect(readFileSync(procs, 'utf8').split('\n').includes(String(helper))).toBe(!cgroup2);
          expect((await running).exitCode).toBe(0);
        } finally {
          await driver.stop(project, name, 0); // first: the cgroup goes only once it is empty
          await running?.catch(() => undefined); // and exec's helper leaves it once its command is gone
          started.delete(name);
          if (userns) await driver.remove(project, name, { layers: true }); // frees its id range too
          leaf.remove();
        }
      }
    }
    expect(tried).toBeGreaterThan(0);
  });

  it('joins a v1 and a cgroup2 cgroup at once, as on a hybrid host (cloned into the cgroup2 one, moved into the v1 one), and so does exec', async () => {
    const v1 = makeCgroup('mix1', CGROUP_MOUNTS.filter(([m]) => m.endsWith('/pids')));
    const v2 = makeCgroup('mix2', CGROUP_MOUNTS.filter(([m]) => !m.endsWith('/pids')));
    if (v1 === null || v2 === null) {
      v1?.remove();
      v2?.remove();
      return; // not a hybrid host
    }
    const procs = [join(v1.dir, 'cgroup.procs'), join(v2.dir, 'cgroup.procs')];
    const members = (): string[][] => procs.map((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    let running: ReturnType<typeof sh> | null = null;
    try {
      const z = await start(zone('mix'), { cgroupProcs: procs });
      for (const m of members()) expect(m).toContain(String(z.pid));
      const self = (await sh('mix', `grep -h -e '${v1.match}' -e '^${v2.match}' /proc/self/cgroup`)).stdout.trim().split('\n');
      expect(self).toHaveLength(2);
      for (const line of self) expect(line.endsWith(':/')).toBe(true);
      running = sh('mix', 'exec sleep 1.5');
      const [command, helper] = await waitFor('the exec\'s command in both cgroups', async () => {
        const [a = [], b = []] = members();
        for (const pid of a.filter((p) => b.includes(p)).map(Number)) {
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x001.5\x00') return [pid, Number(procStatus(readFileSync(`/proc/${pid}/status`, 'utf8'), 'PPid'))];
        }
        return undefined;
      });
      expect(command).toBeGreaterThan(0);
      const [a = [], b = []] = members();
      expect([a.includes(String(helper)), b.includes(String(helper))]).toEqual([true, false]);
      expect((await running).exitCode).toBe(0);
    } finally {
      await driver.stop(project, 'mix', 0);
      await running?.catch(() => undefined); // its helper leaves the cgroups once the command is gone
      started.delete('mix');
      v1.remove();
      v2.remove();
    }
  });

  it("puts the zone's supervisor in the supervisors' cgroup it is given (cloned into a cgroup2 one, moved into a v1 one), and fails a start whose supervisors' cgroup is not there", async () => {
    // each kind of hierarchy the host has, as for the zone's own cgroup below
    const kinds = [CGROUP_MOUNTS.filter(([m]) => m.endsWith('/pids')), CGROUP_MOUNTS.filter(([m]) => !m.endsWith('/pids'))];
    let tried = 0;
    for (const [i, candidates] of kinds.entries()) {
      const leaf = makeCgroup(`sup${i}`, candidates);
      const own = makeCgroup(`sup${i}-zone`, candidates);
      if (leaf === null || own === null) continue;
      tried++;
      try {
        const procs = join(leaf.dir, 'cgroup.procs');
        const z = await start(zone(`sup${i}`), { cgroupProcs: [join(own.dir, 'cgroup.procs')], supervisorProcs: [procs] });
        const supervisor = Number(/supervisor_pid=(\d+)/.exec(readFileSync(driver.paths.record(project, `sup${i}`), 'utf8'))?.[1]);
        // the supervisor is there, and the zone is in its own cgroup, not there
        expect(readFileSync(procs, 'utf8').split('\n')).toContain(String(supervisor));
        expect(readFileSync(procs, 'utf8').split('\n')).not.toContain(String(z.pid));
        await driver.stop(project, `sup${i}`, 1000);
        // with privileges.userns the supervisor forks a holder of the user namespace: it works from there too
        const uns = zone(`sup${i}u`, { root: { kind: 'path', path: join(work, 'rootfs') }, privileges: { ...zone('x').privileges, userns: true } });
        await start(uns, { supervisorProcs: [procs] });
        expect((await sh(`sup${i}u`, 'id -u')).stdout.trim()).toBe('0');
        await driver.stop(project, `sup${i}u`, 1000);
        started.delete(`sup${i}u`);
        await driver.remove(project, `sup${i}u`, { layers: true }); // frees its id range too
        // a cgroup that is not there: the start says why, and nothing of it stays
        const missing = join(leaf.dir, 'no-such', 'cgroup.procs');
        await expect(start(zone(`nojoin${i}`), { supervisorProcs: [missing] })).rejects.toThrow(/^start zone nojoin\d: \w+ .*no-such.*: ENOENT$/);
        expect((await driver.status(project, `nojoin${i}`)).state).toBe('absent');
      } finally {
        own.remove();
        leaf.remove();
      }
    }
    expect(tried).toBeGreaterThan(0);
  });

  it('with ready: the zone is made and in its cgroup (moved on v1, cloned into it on v2), but its command runs only once ready resolves', async () => {
    // each kind of hierarchy the host has: a v1 one (init is moved) and a cgroup2 one (cloned into)
    const kinds = [CGROUP_MOUNTS.filter(([m]) => m.endsWith('/pids')), CGROUP_MOUNTS.filter(([m]) => !m.endsWith('/pids'))];
    let tried = 0;
    for (const [i, candidates] of kinds.entries()) {
      const leaf = makeCgroup(`gated${i}`, candidates);
      if (leaf === null) continue;
      tried++;
      const out = mkdtempSync(join(work, 'gated-'));
      try {
        let go!: () => void;
        const ready = new Promise<void>((r) => (go = r));
        const z = zone(`gated${i}`, {
          command: ['/bin/sh', '-c', 'echo ran > /out/ran; exec sleep infinity'],
          mounts: [{ type: 'bind', source: out, target: '/out', read_only: false }],
        });
        const starting = start(z, { cgroupProcs: [join(leaf.dir, 'cgroup.procs')], ready: () => ready });
        // the zone's init is there, in the cgroup...
        const init = await waitFor('init in the cgroup', async () => readFileSync(join(leaf.dir, 'cgroup.procs'), 'utf8').trim() || undefined);
        await new Promise((r) => setTimeout(r, 300));
        // ...but its command has not run
        expect(existsSync(join(out, 'ran'))).toBe(false);
        expect(readFileSync(join(leaf.dir, 'cgroup.procs'), 'utf8').trim()).toBe(init);
        go();
        const s = await starting;
        expect(String(s.pid)).toBe(init);
        await waitFor('the command', async () => (existsSync(join(out, 'ran')) ? true : undefined));
        expect(readFileSync(join(leaf.dir, 'cgroup.procs'), 'utf8').trim().split('\n')).toHaveLength(2); // init and sleep
        await driver.stop(project, z.name, 1000);
      } finally {
        leaf.remove();
      }
    }
    expect(tried).toBeGreaterThan(0);
  });

  it('with ready and netns: the zone starts in the namespace the caller made, and runs once the caller has plumbed it', async () => {
    const out = mkdtempSync(join(work, 'late-'));
    const z = zone('latens', {
      command: ['/bin/sh', '-c', 'ls /sys/class/net > /out/links.tmp && mv /out/links.tmp /out/links; exec sleep infinity'],
      mounts: [{ type: 'bind', source: out, target: '/out', read_only: false }],
    });
    const netns = driver.prepareNetwork(project, 'latens');
    const made = await netns;
    let plumb!: () => void;
    const plumbNow = new Promise<void>((r) => (plumb = r));
    // a veth pair inside the namespace, through the path it was given: the zone's links at its start
    const ready = () => plumbNow.then(() => netExec(made.path, [{ op: 'link_add_veth', name: 'zt-a', peer: 'zt-b' }])).then(() => undefined);
    const starting = start(z, { ready, netns });
    // the helper runs (its supervisor records the zone) while the caller has not plumbed yet
    await waitFor('the supervisor', async () => (existsSync(driver.paths.record(project, 'latens')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(out, 'links'))).toBe(false);
    const inode = readlinkSync(made.path);
    plumb();
    const s = await starting;
    // the zone and its supervisor are in that namespace, whose descriptor start has closed
    expect(readlinkSync(`/proc/${s.pid}/ns/net`)).toBe(inode);
    const st = await driver.status(project, 'latens');
    expect(st.state === 'running' && readlinkSync(st.netns!)).toBe(inode);
    // closed (its number may have been given to another file since)
    expect((() => { try { return readlinkSync(made.path); } catch { return null; } })()).not.toBe(inode);
    expect(await waitFor('the command', async () => (existsSync(join(out, 'links')) ? readFileSync(join(out, 'links'), 'utf8') : undefined))).toBe('lo\nzt-a\nzt-b\n');
    await driver.stop(project, 'latens', 1000);
  });

  it('a restarted zone is in the same network namespace: its supervisor holds it between runs', async () => {
    const first = await start(zone('r-netns', { command: ['/bin/sh', '-c', 'sleep 0.3; exit 1'], restart: { policy: 'always' } }));
    const inode = readlinkSync(`/proc/${first.pid}/ns/net`);
    const again = await waitFor('a restart', async () => {
      const s = await driver.status(project, 'r-netns');
      return s.state === 'running' && s.restarts >= 1 ? s : undefined;
    });
    expect(again.state === 'running' && again.pid).not.toBe(first.pid);
    if (again.state !== 'running') throw new Error('not running');
    expect(readlinkSync(`/proc/${again.pid}/ns/net`)).toBe(inode);
    expect(readlinkSync(again.netns!)).toBe(inode);
    await driver.stop(project, 'r-netns', 1000);
  });

  it('a ready that rejects calls the start off: its reason, the command never ran, nothing stays', async () => {
    const out = mkdtempSync(join(work, 'off-'));
    const z = zone('calledoff', {
      command: ['/bin/sh', '-c', 'echo ran > /out/ran; exec sleep infinity'],
      mounts: [{ type: 'bind', source: out, target: '/out', read_only: false }],
    });
    const reason = new Error('connect networks: EEXIST');
    const ready = () => new Promise<void>((_, reject) => setTimeout(() => reject(reason), 100));
    await expect(start(z, { ready })).rejects.toBe(reason);
    expect(existsSync(join(out, 'ran'))).toBe(false);
    expect(await driver.status(project, 'calledoff')).toEqual({ state: 'absent' });
    expect(existsSync(driver.paths.zoneRun(project, 'calledoff'))).toBe(false);
    expect(zonectlMounts()).toEqual([]);
  });

  it('a start that fails before its helper runs still closes the namespace it was given (none is kept alive)', async () => {
    const made = await driver.prepareNetwork(project, 'noroot');
    const inode = readlinkSync(made.path);
    let called = false;
    const ready = async () => {
      called = true;
    };
    await expect(start(zone('noroot', { root: { kind: 'path', path: join(work, 'no-such-root') } }), { ready, netns: Promise.resolve(made) })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(called).toBe(false); // the helper never had it: nothing of the caller's began
    // closed (its number may have been given to another file since)
    expect((() => { try { return readlinkSync(made.path); } catch { return null; } })()).not.toBe(inode);
    expect(await driver.status(project, 'noroot')).toEqual({ state: 'absent' });
  });

  it('a network namespace that cannot be made calls the start off: its error, the command never ran, nothing stays', async () => {
    const out = mkdtempSync(join(work, 'nsfail-'));
    const z = zone('nsfail', {
      command: ['/bin/sh', '-c', 'echo ran > /out/ran; exec sleep infinity'],
      mounts: [{ type: 'bind', source: out, target: '/out', read_only: false }],
    });
    const reason = new Error('network namespace of zone nsfail: ENOSPC');
    const netns = Promise.reject(reason);
    let called = false;
    const ready = async () => {
      called = true;
    };
    await expect(start(z, { ready, netns })).rejects.toBe(reason);
    expect(called).toBe(false);
    expect(existsSync(join(out, 'ran'))).toBe(false);
    expect(await driver.status(project, 'nsfail')).toEqual({ state: 'absent' });
    expect(zonectlMounts()).toEqual([]);
  });

  it('a start called off is not held up by a start made after it by the same helper (it holds no other start\'s go pipe)', async () => {
    const out = mkdtempSync(join(work, 'sides-'));
    const sided = (name: string) => zone(name, {
      command: ['/bin/sh', '-c', `echo ran > /out/${name}; exec sleep infinity`],
      mounts: [{ type: 'bind', source: out, target: '/out', read_only: false }],
    });
    const reason = new Error('called off by the test');
    let callOff!: () => void;
    const held = new Promise<void>((_, reject) => (callOff = () => reject(reason)));
    const first = start(sided('side1'), { ready: () => held });
    await waitFor('the first supervisor', async () => (existsSync(driver.paths.record(project, 'side1')) ? true : undefined));
    // made while the first still waits: by the same serve process, forked after the first's go pipe was made
    await start(sided('side2'), { ready: async () => {} });
    callOff();
    await expect(first).rejects.toBe(reason);
    expect(existsSync(join(out, 'side1'))).toBe(false);
    expect(await driver.status(project, 'side1')).toEqual({ state: 'absent' });
    expect(await waitFor('the second command', async () => (existsSync(join(out, 'side2')) ? readFileSync(join(out, 'side2'), 'utf8') : undefined))).toBe('ran\n');
    await driver.stop(project, 'side2', 1000);
  });

  it('reports a command that cannot be exec\'d, and leaves nothing behind', async () => {
    await expect(start(zone('enoent', { command: ['/no/such/command'] }))).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/start zone enoent: execve \/no\/such\/command: ENOENT/),
    });
    await expect(start(zone('eacces', { command: ['/etc/passwd'] }))).rejects.toMatchObject({ code: 'EACCES' });
    expect(await driver.status(project, 'enoent')).toEqual({ state: 'absent' });
    expect(existsSync(driver.paths.zoneRun(project, 'eacces'))).toBe(false);
  });

  it('keeps the helper as pid 1 where zonectl-init cannot be had (not beside it): still out of the zone\'s reach', async () => {
    const alone = join(work, 'alone');
    mkdirSync(alone, { recursive: true });
    copyFileSync(HELPER_PATH, join(alone, 'zonectl-helper'));
    chmodSync(join(alone, 'zonectl-helper'), 0o755);
    const fallback = new NativeZoneDriver({ helper: join(alone, 'zonectl-helper'), log: LOG });
    started.add('fallback');
    const z = await fallback.start(project, zone('fallback'));
    seenPids.add(z.pid);
    expect(procStatus(readFileSync(`/proc/${z.pid}/status`, 'utf8'), 'Name')).toBe('zonectl-helper');
    const r = await sh('fallback', 'cat /proc/1/comm; cat /proc/1/mem; echo "mem $?"');
    expect(r.stdout).toBe('zonectl-helper\nmem 1\n');
    await fallback.stop(project, 'fallback', 2000);
    expect(await driver.status(project, 'fallback')).toEqual({ state: 'absent' });
  });

  it('reports a missing helper executable and leaves nothing behind', async () => {
    const broken = new NativeZoneDriver({ helper: join(work, 'no-such-helper') });
    await expect(broken.start(project, zone('nohelper'))).rejects.toMatchObject({
      message: expect.stringMatching(/start zone nohelper: run .*no-such-helper/),
      code: 'ENOENT',
    });
    expect(existsSync(driver.paths.zoneRun(project, 'nohelper'))).toBe(false);
  });

  it('captures stdout and stderr to a rotated log', async () => {
    await start(zone('logs', {
      command: ['/bin/sh', '-c', 'echo out; echo err >&2; i=0; while [ $i -lt 400 ]; do echo "line $i ........................"; i=$((i+1)); done; echo last; sleep infinity'],
    }));
    await waitFor('the last line', async () => ((await logText('logs', { tail: 1 })) === 'last\n' ? true : undefined));
    const log = driver.paths.log(project, 'logs');
    expect(existsSync(`${log}.1`) && existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    for (const f of [log, `${log}.1`, `${log}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(LOG.maxBytes);
    expect(await logText('logs', { tail: 2 })).toBe('line 399 ........................\nlast\n');
  });

  it('keeps the first lines until they rotate away, and follows new output', async () => {
    await start(zone('follow', { command: ['/bin/sh', '-c', 'echo out; echo err >&2; sleep 0.3; echo later; sleep infinity'] }));
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const b of driver.logs(project, 'follow', { follow: true, signal: ac.signal })) {
      seen.push(b.toString());
      if (seen.join('').includes('later')) ac.abort();
    }
    expect(seen.join('')).toBe('out\nerr\nlater\n');
  });

  it('restart: no leaves the zone exited with its code', async () => {
    await start(zone('r-no', { command: ['/bin/sh', '-c', 'sleep 0.1; exit 3'] }));
    const st = await waitFor('exit', async () => {
      const s = await driver.status(project, 'r-no');
      return s.state === 'exited' ? s : undefined;
    });
    expect(st).toMatchObject({ state: 'exited', exitCode: 3, restarts: 0 });
  });

  it('restart: on-failure:2 retries twice, then stays exited', async () => {
    await start(zone('r-fail', { command: ['/bin/sh', '-c', 'echo run; exit 3'], restart: { policy: 'on-failure', max_retries: 2 } }));
    const st = await waitFor('exit', async () => {
      const s = await driver.status(project, 'r-fail');
      return s.state === 'exited' ? s : undefined;
    });
    expect(st).toMatchObject({ exitCode: 3, restarts: 2 });
    expect(await logText('r-fail')).toBe('run\nrun\nrun\n');
  });

  it('restart: on-failure does not restart a zone that exits 0', async () => {
    await start(zone('r-ok', { command: ['/bin/sh', '-c', 'sleep 0.1; exit 0'], restart: { policy: 'on-failure', max_retries: null } }));
    const st = await waitFor('exit', async () => {
      const s = await driver.status(project, 'r-ok');
      return s.state === 'exited' ? s : undefined;
    });
    expect(st).toMatchObject({ exitCode: 0, restarts: 0 });
  });

  it('restart: always restarts with backoff until stopped', async () => {
    await start(zone('r-always', { command: ['/bin/sh', '-c', 'echo run; exit 0'], restart: { policy: 'always' } }));
    await waitFor('two restarts', async () => {
      const s = await driver.status(project, 'r-always');
      return s.state !== 'absent' && 'restarts' in s && s.restarts >= 2 ? true : undefined;
    });
    await driver.stop(project, 'r-always', 1000);
    expect(await driver.status(project, 'r-always')).toEqual({ state: 'absent' });
  });

  it('stop: SIGTERM first; SIGKILL after the grace period to a zone that ignores it', async () => {
    const polite = await start(zone('polite'));
    let t0 = Date.now();
    await driver.stop(project, 'polite', 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(existsSync(`/proc/${polite.pid}`)).toBe(false);

    const z = await start(zone('stubborn', { command: ['/bin/sh', '-c', 'trap "" TERM; sleep infinity & wait'] }));
    const ns = readlinkSync(`/proc/${z.pid}/ns/pid`);
    await waitFor('the sleeper', async () => (pidsInNamespace(ns).length >= 3 ? true : undefined));
    t0 = Date.now();
    await driver.stop(project, 'stubborn', 700);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(650);
    expect(took).toBeLessThan(5000);
    expect(pidsInNamespace(ns)).toEqual([]);
  });

  it('stop: the supervisor keeps to the grace period even if zonectl dies mid-stop', async () => {
    const z = await start(zone('orphan-stop', { command: ['/bin/sh', '-c', 'trap "" TERM; sleep infinity & wait'], stop_grace_period: 60_000 }));
    // the shell ignores SIGTERM once its sleeper runs (before that, the SIGTERM below would end it)
    const ns = readlinkSync(`/proc/${z.pid}/ns/pid`);
    await waitFor('the sleeper', async () => (pidsInNamespace(ns).length >= 3 ? true : undefined));
    const run = driver.paths.zoneRun(project, 'orphan-stop');
    const sup = Number(/supervisor_pid=(\d+)/.exec(readFileSync(`${run}/state`, 'utf8'))?.[1]);
    // what stop does before it waits, and then zonectl is gone: no SIGKILL from it
    writeFileSync(`${run}/stop_grace_ms`, '300');
    process.kill(sup, 'SIGTERM');
    await waitFor('the supervisor\'s SIGKILL', async () => (existsSync(`/proc/${z.pid}`) ? undefined : true), 5000);
    // the supervisor records the exit just after the zone is gone: wait for the record, not a moment
    const final = await waitFor('the supervisor\'s record of the exit', async () => {
      const st = await driver.status(project, 'orphan-stop');
      return st.state === 'exited' ? st : undefined;
    }, 5000);
    expect(final).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('stop leaves nothing: no process, mount or record', async () => {
    const z = await start(zone('gone'));
    const ns = readlinkSync(`/proc/${z.pid}/ns/pid`);
    expect(zonectlMounts()).toEqual([]); // the root is mounted only inside the zone
    await sh('gone', 'sleep infinity >/dev/null 2>&1 & exit 0');
    await driver.stop(project, 'gone', 1000);
    started.delete('gone');
    expect(pidsInNamespace(ns)).toEqual([]);
    expect(zonectlMounts()).toEqual([]);
    expect(existsSync(driver.paths.zoneRun(project, 'gone'))).toBe(false);
    expect(await driver.status(project, 'gone')).toEqual({ state: 'absent' });
  });

  it('start cleans stale records of a zone that died with its supervisor', async () => {
    const z = await start(zone('stale'));
    const rec = readFileSync(driver.paths.record(project, 'stale'), 'utf8');
    const sup = Number(/supervisor_pid=(\d+)/.exec(rec)?.[1]);
    process.kill(sup, 'SIGKILL'); // a crash: the zone dies with it (PDEATHSIG)
    await waitFor('the zone to die', async () => (existsSync(`/proc/${z.pid}`) ? undefined : true));
    expect(await driver.status(project, 'stale')).toMatchObject({ state: 'exited', exitCode: null });
    const again = await start(zone('stale'));
    expect(again.pid).not.toBe(z.pid);
    expect(await driver.status(project, 'stale')).toMatchObject({ state: 'running', pid: again.pid });
    await expect(driver.start(project, zone('stale'))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});

/** A pid that exists again only because the kernel reused it for an unrelated process. */
function isZombieOfOthers(pid: number): boolean {
  try {
    return !seenPidNs.has(readlinkSync(`/proc/${pid}/ns/pid`)) && !/zonectl-(helper|init)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}
