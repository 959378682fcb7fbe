// The lifecycle through the real CLI on the real kernel (root): up is idempotent, a limit
// changes in place, a command change replaces, pruning, two runs serialise on the project
// lock, SIGKILL of up at random moments converges on the next up, and down leaves nothing.
// Each check reads its fact back from the kernel (/sys/fs/cgroup, /proc, /sys/class/net,
// /proc/self/mountinfo, nft). Only this file's project (zt-lc-*) is ever touched; subnets are
// in 10.213.200.0/21 and checked to be unrouted.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { serviceHierarchies } from '../../src/host/cgroup/detect.js';
import { layoutOf } from '../../src/host/cgroup/index.js';
import { createNetDriver } from '../../src/host/net/index.js';
import { NftTables } from '../../src/host/net/nft.js';
import { overlaps, parseCidr, type Cidr } from '../../src/model/ipv4.js';
import { describeRoot } from '../helpers/root.js';

const CLI = join(import.meta.dirname, '../../bin/zonectl.cjs');
const project = `zt-lc-${randomBytes(3).toString('hex')}`;
const RUN = `/run/zonectl/${project}`;
const LIB = `/var/lib/zonectl/projects/${project}`;
const CRASH_TRIALS = 20;

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface PsRow {
  name: string;
  state: string;
  pid: number | null;
  started_at: string | null;
}

describeRoot('lifecycle through the CLI (root, real kernel)', () => {
  let dir = '';
  let subnet = '';
  /** A second segment's subnet, for the tests that need two. */
  let subnet2 = '';
  /** Every host pid seen belonging to the project (zone inits, supervisors): none may outlive the suite. */
  const seen = new Map<number, string>();

  /** zonectl ARGS in the project's directory; `kill` SIGKILLs it after that many ms. */
  function zonectl(args: string[], opts: { killAfterMs?: number } = {}): Promise<CliResult> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, CI: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = opts.killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
      });
    });
  }

  async function ok(args: string[]): Promise<CliResult> {
    const r = await zonectl(args);
    expect(r.code, `zonectl ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  }

  async function ps(): Promise<Record<string, PsRow>> {
    const rows = JSON.parse((await ok(['ps', '--json'])).stdout) as PsRow[];
    for (const r of rows) if (r.pid !== null) seen.set(r.pid, startTime(r.pid) ?? '');
    for (const z of rows) {
      const sup = /supervisor_pid=(\d+)/.exec(readIf(`${RUN}/zones/${z.name}/state`))?.[1];
      if (sup !== undefined) seen.set(Number(sup), startTime(Number(sup)) ?? '');
    }
    return Object.fromEntries(rows.map((r) => [r.name, r]));
  }

  /** `plan --detailed-exitcode`: 0 nothing to do, 2 changes pending. */
  async function planExit(extra: string[] = []): Promise<number | null> {
    return (await zonectl(['plan', '--detailed-exitcode', ...extra])).code;
  }

  function files(zones: string, extra = ''): void {
    writeFileSync(
      join(dir, 'zones.yaml'),
      `name: ${project}\ndefaults:\n  stop_grace_period: 1s\nnetworks:\n  lan: { subnet: ${subnet}, gateway: true, egress: nat }\n${extra}zones:\n${zones}`,
    );
  }

  const zone = (name: string, body = ''): string => `  ${name}:\n    command: sleep 1000\n    networks: [lan]\n${body}`;

  beforeAll(async () => {
    const routes = (await createNetDriver().hostRoutes()).map((r) => parseCidr(r) as Cidr).filter((r) => r.prefix > 0);
    const free = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `10.213.${200 + i}.0/24`).filter((s) => !routes.some((r) => overlaps(r, parseCidr(s) as Cidr)));
    if (free.length === 0) throw new Error('every /24 of 10.213.200.0/21 is routed on this host; refusing to run');
    if (free.length < 2) throw new Error('fewer than two /24s of 10.213.200.0/21 are free on this host; refusing to run');
    const pick = randomInt(free.length);
    subnet = free[pick]!;
    subnet2 = free[(pick + 1) % free.length]!;
    dir = mkdtempSync(join(tmpdir(), 'zonectl-lc-'));
  });

  afterEach(async () => {
    const r = await zonectl(['down', '--volumes']);
    expect(r.code, `down failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  });

  afterAll(async () => {
    // Down once more even if a test failed half-way, then the leak check.
    if (dir) await zonectl(['down', '--volumes']);
    expect(leftovers()).toEqual([]);
    // Supervisors are reparented to pid 1, which reaps them in its own time: an exited
    // (zombie) one is gone as far as the zone is concerned.
    const alive = [...seen].filter(([pid, start]) => start !== '' && startTime(pid) === start && procState(pid) !== 'Z');
    expect(alive.map(([pid]) => `${pid} ${procState(pid)} ${readIf(`/proc/${pid}/cmdline`).replaceAll('\0', ' ')}`)).toEqual([]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('up twice: the second plans nothing and changes nothing (same pids, same start times)', async () => {
    files(zone('web') + zone('api') + zone('db', '    depends_on: [api]\n'));
    expect(await planExit()).toBe(2);
    await ok(['up']);
    const first = await ps();
    expect(Object.values(first).map((z) => z.state)).toEqual(['running', 'running', 'running']);
    expect(await planExit()).toBe(0);
    const again = await ok(['up']);
    expect(again.stdout).toContain('nothing to do');
    expect(await ps()).toEqual(first);
    for (const z of Object.values(first)) expect(existsSync(`/proc/${z.pid}`), `zone ${z.name} pid ${z.pid}`).toBe(true);
  });

  it("up run by a service: what systemd kills when the service stops is not the zones' nor their supervisors'", async () => {
    // systemd puts a service in a cgroup of every hierarchy without a controller (name=systemd,
    // a hybrid host's cgroup2; a unified host's one), and when it stops kills what is left in
    // the one it tracks services in: the cgroup2 one where there is one
    const layout = layoutOf(readFileSync('/proc/self/mountinfo', 'utf8'));
    const trackers = layout.mode === 'unified' ? [layout.unified] : [...layout.named, ...(layout.unified === null ? [] : [layout.unified])];
    const tracking = layout.mode === 'unified' ? [layout.unified] : serviceHierarchies(layout);
    expect(tracking.length, 'no hierarchy where a service could be tracked').toBeGreaterThan(0);
    const unit = (h: string): string => join(h, `${project}.service`); // a dot: never taken for a project
    const procs = (hs: string[]): number[] => [...new Set(hs.flatMap((h) => readIf(`${unit(h)}/cgroup.procs`).split('\n').filter(Boolean).map(Number)))];
    for (const h of trackers) mkdirSync(unit(h));
    try {
      files(zone('web') + zone('api'));
      // the service: its main process and, beside it, zonectl up
      const enter = trackers.map((h) => `echo $$ > ${unit(h)}/cgroup.procs`).join(' && ');
      const r = await new Promise<number | null>((resolve, reject) => {
        const child = spawn('sh', ['-c', `${enter} && { sleep 1000 & exec "$@"; }`, 'sh', process.execPath, CLI, 'up'], { cwd: dir, stdio: 'ignore' });
        child.once('error', reject);
        child.once('close', resolve);
      });
      expect(r).toBe(0);
      const before = await ps();
      expect(Object.values(before).map((z) => z.state)).toEqual(['running', 'running']);
      // no zone's process is in the service's cgroup where systemd kills; once up has exited,
      // only the service's main process is left there
      const zonePids = new Set(Object.values(before).map((z) => z.pid));
      expect(procs(tracking).filter((p) => zonePids.has(p))).toEqual([]);
      const main = await waitFor('the service left with its main process only', () => (procs(tracking).length === 1 ? procs(tracking) : undefined));
      expect(readIf(`/proc/${main[0]}/cmdline`)).toBe('sleep\x001000\x00');
      // the service stops
      process.kill(main[0]!, 'SIGKILL');
      await waitFor('the service stopped', () => (procs(tracking).length === 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      expect(await ps()).toEqual(before);
    } finally {
      await zonectl(['down', '--volumes']); // the supervisors may be in the copy systemd keeps (name=systemd)
      for (const pid of procs(trackers)) process.kill(pid, 'SIGKILL');
      await waitFor('the service cgroups empty', () => (procs(trackers).length === 0 ? true : undefined));
      for (const h of trackers) rmdirSync(unit(h));
    }
  });

  it('a limit change is one in-place update: the pid stays, the kernel has the new limit', async () => {
    files(zone('web', '    limits: { memory: 64M, pids: 32 }\n') + zone('api'));
    await ok(['up']);
    const before = await ps();
    expect(readLimit('web', 'memory')).toBe(64 * 1024 * 1024);
    files(zone('web', '    limits: { memory: 96M, pids: 32 }\n') + zone('api'));
    const plan = JSON.parse((await ok(['plan', '--json'])).stdout) as { actions: { kind: string; id: string; changes?: { path: string; applied: string }[] }[] };
    expect(plan.actions.map((a) => `${a.kind} ${a.id} ${(a.changes ?? []).map((c) => `${c.path}:${c.applied}`).join(',')}`)).toEqual(['update zone.web limits.memory:in-place']);
    // -q: only errors, and an up that succeeds has none (without -q the same up says what it did)
    expect(await ok(['-q', 'up'])).toMatchObject({ stdout: '', stderr: '' });
    expect((await ok(['up'])).stdout).toMatch(/nothing to do|no changes|0 to add/);
    const after = await ps();
    expect(after.web!.pid).toBe(before.web!.pid);
    expect(after.web!.started_at).toBe(before.web!.started_at);
    expect(after.api).toEqual(before.api);
    // memory.limit_in_bytes (v1) or memory.max (v2) of zonectl/PROJECT/web
    expect(readLimit('web', 'memory')).toBe(96 * 1024 * 1024);
    expect(readLimit('web', 'pids')).toBe(32);
    expect(await planExit()).toBe(0);
  });

  it('an up that changes something leaves an unchanged nftables table alone, and makes one deleted by hand again', async () => {
    const nft = new NftTables();
    files(zone('web', '    limits: { memory: 64M }\n'));
    await ok(['up']);
    const first = await nft.handle(project);
    expect(first, 'the table after the first up').not.toBeNull();
    // A change that does not touch the table: not replaced (a replace would make a new handle).
    files(zone('web', '    limits: { memory: 96M }\n'));
    await ok(['up']);
    expect(await nft.handle(project)).toBe(first);
    // Deleted by hand: the next up that runs makes it again, with its masquerade rule.
    execFileSync('nft', ['delete', 'table', 'inet', `zonectl-${project}`]);
    files(zone('web', '    limits: { memory: 64M }\n'));
    await ok(['up']);
    expect(await nft.handle(project)).not.toBeNull();
    expect(execFileSync('nft', ['list', 'table', 'inet', `zonectl-${project}`], { encoding: 'utf8' })).toContain(`ip saddr ${subnet} oifname != `);
    // ...and so does an up with nothing else to do: the table is derived state, checked every run.
    execFileSync('nft', ['delete', 'table', 'inet', `zonectl-${project}`]);
    expect(await nft.handle(project)).toBeNull();
    expect((await ok(['up'])).stdout).toContain('nothing to do');
    expect(await nft.handle(project)).not.toBeNull();
  });

  it('hostname, restart and stop_grace_period change in place: the zone keeps running, the new values hold', async () => {
    files(zone('web', '    restart: "no"\n'));
    await ok(['up']);
    const before = await ps();
    files(zone('web', '    restart: always\n    hostname: web2\n    stop_grace_period: 3s\n'));
    const plan = JSON.parse((await ok(['plan', '--json'])).stdout) as { actions: { kind: string; changes?: { path: string; applied: string }[] }[] };
    expect(plan.actions.map((a) => `${a.kind} ${(a.changes ?? []).map((c) => `${c.path}:${c.applied}`).join(',')}`)).toEqual([
      'update hostname:in-place,restart:in-place,stop_grace_period:in-place',
    ]);
    await ok(['up']);
    const after = await ps();
    expect(after.web!.pid).toBe(before.web!.pid);
    // the uts name, read back from the zone itself
    expect((await ok(['exec', 'web', '--', 'hostname'])).stdout.trim()).toBe('web2');
    // the new restart policy: the zone's main process dies and the supervisor starts it again
    // (with the old policy, "no", the zone would stay exited)
    const main = zonePids('web').find((p) => readIf(`/proc/${p}/cmdline`).includes('sleep'));
    expect(main).toBeDefined();
    process.kill(main!, 'SIGKILL');
    let restarted: PsRow | undefined;
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      const z = (await ps()).web;
      if (z?.state === 'running' && z.pid !== before.web!.pid) {
        restarted = z;
        break;
      }
    }
    expect(restarted, 'the zone was restarted under its new policy').toBeDefined();
    expect(await planExit()).toBe(0);
  });

  it('a zone joins a second segment and leaves it again in place: same pid, its interfaces read back from inside', async () => {
    const back = `  back: { subnet: ${subnet2} }\n`;
    const links = async (): Promise<string[]> =>
      (await ok(['exec', 'web', '--', 'cat', '/proc/net/dev'])).stdout.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
    files(zone('web'), back);
    await ok(['up']);
    const before = await ps();
    expect(await links()).toEqual(['lan', 'lo']);
    files(zone('web').replace('networks: [lan]', 'networks: [lan, back]'), back);
    const plan = JSON.parse((await ok(['plan', '--json'])).stdout) as { actions: { kind: string; id: string }[] };
    expect(plan.actions.map((x) => `${x.kind} ${x.id}`)).toEqual(['update zone.web']);
    await ok(['up']);
    expect((await ps()).web!.pid).toBe(before.web!.pid);
    expect(await links()).toEqual(['back', 'lan', 'lo']);
    files(zone('web'), back);
    await ok(['up']);
    expect((await ps()).web!.pid).toBe(before.web!.pid);
    expect(await links()).toEqual(['lan', 'lo']);
    expect(await planExit()).toBe(0);
  });

  it('a command change is a replace: a new process, the old one gone', async () => {
    files(zone('web') + zone('api'));
    await ok(['up']);
    const before = await ps();
    files(zone('web').replace('sleep 1000', 'sleep 1001') + zone('api'));
    const plan = JSON.parse((await ok(['plan', '--json'])).stdout) as { actions: { kind: string; id: string; replace_paths?: string[] }[] };
    expect(plan.actions.map((a) => `${a.kind} ${a.id} ${(a.replace_paths ?? []).join(',')}`)).toEqual(['replace zone.web command']);
    await ok(['up']);
    const after = await ps();
    expect(after.web!.state).toBe('running');
    expect(after.web!.pid).not.toBe(before.web!.pid);
    expect(existsSync(`/proc/${before.web!.pid}`)).toBe(false);
    // The zone's init is the helper; the command runs below it, in the zone's cgroup.
    expect(zonePids('web').some((p) => readIf(`/proc/${p}/cmdline`).includes('1001'))).toBe(true);
    expect(after.api).toEqual(before.api);
    expect(await planExit()).toBe(0);
  });

  it('a zone removed from the files is pruned (cgroup, records, process, links); --no-prune keeps it', async () => {
    files(zone('web') + zone('api'));
    await ok(['up']);
    const before = await ps();
    files(zone('web'));
    await ok(['up', '--no-prune']);
    expect((await ps()).api).toEqual(before.api);
    expect(await planExit(['--no-prune'])).toBe(0);
    expect(await planExit()).toBe(2);
    await ok(['up']);
    expect(Object.keys(await ps())).toEqual(['web']);
    expect(cgroupDirs().filter((d) => d.endsWith('/api'))).toEqual([]);
    expect(cgroupDirs().filter((d) => d.endsWith('/web')).length).toBeGreaterThan(0);
    expect(existsSync(`${RUN}/zones/api`)).toBe(false);
    expect(existsSync(`/proc/${before.api!.pid}`)).toBe(false);
    expect(links().filter((l) => l.alias.startsWith(`zonectl/${project}/api/`))).toEqual([]);
  });

  it('two up at once serialise: the second waits for the lock, both succeed, the state is right', async () => {
    // A zone that ignores SIGTERM: replacing it holds the lock for its whole grace period.
    const stubborn = `  slow:\n    command: ["/bin/sh", "-c", "trap '' TERM; exec sleep 1000"]\n    stop_grace_period: 2s\n    networks: [lan]\n`;
    files(stubborn + zone('web'));
    await ok(['up']);
    files(stubborn.replace('sleep 1000', 'sleep 1001') + zone('web'));
    const a = zonectl(['up']);
    await waitFor('the first up to take the lock', () => (lockHolderRunning() ? true : undefined));
    const b = zonectl(['up']);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).toMatch(/waiting for another zonectl run on this project \(pid \d+\)/);
    expect(ra.stdout).toContain('1 to replace');
    expect(rb.stdout).toContain('nothing to do');
    expect(ra.ms).toBeGreaterThan(1500);
    const z = await ps();
    expect(z.slow!.state).toBe('running');
    expect(zonePids('slow').some((p) => readIf(`/proc/${p}/cmdline`).includes('1001'))).toBe(true);
    expect(await planExit()).toBe(0);
  });

  it('down leaves no cgroup, mount, link, nft table or process of the project (and running zones need no mount)', async () => {
    files(zone('web') + zone('api', '    ports: ["127.0.0.1:18080:80"]\n'));
    await ok(['up']);
    const z = await ps();
    expect(cgroupDirs().length).toBeGreaterThan(0);
    expect(links().length).toBe(3); // the bridge and two veths
    expect(nftTables()).toEqual([`zonectl-${project}`]);
    expect(mounts()).toEqual([]); // each network namespace is held by its zone's supervisor, not pinned
    // a plain down keeps the writable layers (and only them); down --volumes then says it removed them
    await ok(['down']);
    expect(leftovers()).toEqual([`lib dir ${LIB}`]);
    expect((await ok(['down', '--volumes'])).stdout).toContain(`project ${project}: removed the writable layers of zones api, web (stopped by an earlier down)`);
    expect(leftovers()).toEqual([]);
    for (const r of Object.values(z)) expect(existsSync(`/proc/${r.pid}`), `pid ${r.pid} of ${r.name}`).toBe(false);
  });

  it(`SIGKILL of up at random moments while 10 zones start (${CRASH_TRIALS} trials): the next up converges`, async () => {
    const names = Array.from({ length: 10 }, (_, i) => `z${i}`);
    const ten = (cmd: string): string => names.map((n, i) => zone(n, i >= 5 ? `    depends_on: [z${i - 5}]\n` : '').replace('sleep 1000', cmd)).join('');
    files(ten('sleep 1000'));
    // Calibrate: how long a clean up of the 10 zones takes here.
    const clean = await ok(['up']);
    expect(Object.values(await ps()).filter((r) => r.state === 'running')).toHaveLength(10);
    const durations: number[] = [];
    let command = 'sleep 1000';
    for (let trial = 0; trial < CRASH_TRIALS; trial++) {
      // Two trials in three start from nothing (kill during creation); every third replaces
      // all ten (kill during stops and starts).
      if (trial % 3 === 2) {
        command = command === 'sleep 1000' ? 'sleep 1001' : 'sleep 1000';
        files(ten(command));
      } else {
        // Whatever the previous crash left, down removes all of it.
        await ok(['down', '--volumes']);
        expect(leftovers(), `down after trial ${trial - 1}`).toEqual([]);
      }
      const delay = randomInt(Math.max(50, Math.round(clean.ms * 1.1)));
      const killed = await zonectl(['up'], { killAfterMs: delay });
      const t0 = performance.now();
      const resumed = await zonectl(['up']);
      durations.push(performance.now() - t0);
      const ctx = `trial ${trial}, SIGKILL after ${delay} ms (${killed.signal ?? `exited ${killed.code}`}):\n${killed.stdout}${killed.stderr}\n--- then up:\n${resumed.stdout}${resumed.stderr}`;
      expect(resumed.code, ctx).toBe(0);
      const rows = await ps();
      expect(Object.values(rows).filter((r) => r.state === 'running').map((r) => r.name).sort(), ctx).toEqual(names);
      expect(await planExit(), ctx).toBe(0);
      // Exactly the ten zones' objects: no half-made extras.
      expect(links().length, ctx).toBe(11);
      expect(mounts(), ctx).toEqual([]);
      expect(supervisors().length, ctx).toBe(10);
      for (const n of names) expect(zonePids(n).some((p) => readIf(`/proc/${p}/cmdline`).startsWith(`sleep\0${command.split(' ')[1]}`)), `${ctx}\nzone ${n} runs ${command}`).toBe(true);
    }
    console.log(`crash trials: ${CRASH_TRIALS}, clean up of 10 zones ${clean.ms.toFixed(0)} ms, recovering up ${Math.min(...durations).toFixed(0)}-${Math.max(...durations).toFixed(0)} ms`);
  }, 180_000);

  it(`SIGKILL of down at random moments while 10 zones stop (${CRASH_TRIALS / 2} trials): the next down leaves nothing`, async () => {
    const names = Array.from({ length: 10 }, (_, i) => `z${i}`);
    files(names.map((n, i) => zone(n, i >= 5 ? `    depends_on: [z${i - 5}]\n` : '')).join(''));
    await ok(['up']);
    // Calibrate: how long a clean down of the 10 zones takes here.
    const clean = await ok(['down', '--volumes']);
    expect(leftovers()).toEqual([]);
    const durations: number[] = [];
    for (let trial = 0; trial < CRASH_TRIALS / 2; trial++) {
      await ok(['up']);
      const delay = randomInt(Math.max(30, Math.round(clean.ms * 1.1)));
      // half the trials keep the layers (a crash of `down`, then `down --volumes`), half not
      const volumes = trial % 2 === 0 ? ['--volumes'] : [];
      const killed = await zonectl(['down', ...volumes], { killAfterMs: delay });
      const t0 = performance.now();
      const resumed = await zonectl(['down', '--volumes']);
      durations.push(performance.now() - t0);
      const ctx = `trial ${trial}, SIGKILL after ${delay} ms (${killed.signal ?? `exited ${killed.code}`}):\n${killed.stdout}${killed.stderr}\n--- then down --volumes:\n${resumed.stdout}${resumed.stderr}`;
      expect(resumed.code, ctx).toBe(0);
      expect(leftovers(), ctx).toEqual([]);
      expect(await planExit(), ctx).not.toBe(0); // a plan against nothing: everything to create
    }
    console.log(`down crash trials: ${CRASH_TRIALS / 2}, clean down of 10 zones ${clean.ms.toFixed(0)} ms, recovering down ${Math.min(...durations).toFixed(0)}-${Math.max(...durations).toFixed(0)} ms`);
  }, 180_000);

  // ------------------------------------------------------------------ reading the kernel

  function readIf(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  }

  function startTime(pid: number): string | null {
    const stat = readIf(`/proc/${pid}/stat`);
    return stat === '' ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
  }

  /** The state letter of /proc/PID/stat (R, S, Z...), or '' when there is no such process. */
  function procState(pid: number): string {
    const stat = readIf(`/proc/${pid}/stat`);
    return stat === '' ? '' : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  }

  /** Every hierarchy's zonectl/PROJECT directory and below, and its supervisors' cgroup, that exist. */
  function cgroupDirs(): string[] {
    const roots = ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((d) => `/sys/fs/cgroup/${d}`)];
    const out: string[] = [];
    for (const r of roots) {
      const base = `${r}/zonectl/${project}`;
      if (existsSync(`${base}.supervisors`)) out.push(`${base}.supervisors`);
      if (!existsSync(base)) continue;
      out.push(base, ...readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${base}/${e.name}`));
    }
    return out;
  }

  /** A limit read from the zone's cgroup: memory.limit_in_bytes or memory.max, pids.max. */
  function readLimit(z: string, which: 'memory' | 'pids'): number {
    const candidates =
      which === 'memory'
        ? [`/sys/fs/cgroup/memory/zonectl/${project}/${z}/memory.limit_in_bytes`, `/sys/fs/cgroup/zonectl/${project}/${z}/memory.max`]
        : [`/sys/fs/cgroup/pids/zonectl/${project}/${z}/pids.max`, `/sys/fs/cgroup/zonectl/${project}/${z}/pids.max`];
    const file = candidates.find((f) => existsSync(f));
    if (file === undefined) throw new Error(`no ${which} limit file for zone ${z} (${candidates.join(', ')})`);
    return Number(readFileSync(file, 'utf8').trim());
  }

  /** Pids in the zone's cgroup (any hierarchy). */
  function zonePids(z: string): number[] {
    const pids = new Set<number>();
    for (const d of cgroupDirs().filter((x) => x.endsWith(`/${z}`))) for (const p of readIf(`${d}/cgroup.procs`).split('\n').filter(Boolean)) pids.add(Number(p));
    return [...pids];
  }

  /** Interfaces whose alias names this project (zn* bridges and veths). */
  function links(): { name: string; alias: string }[] {
    return readdirSync('/sys/class/net')
      .filter((n) => n.startsWith('zn'))
      .map((name) => ({ name, alias: readIf(`/sys/class/net/${name}/ifalias`).trim() }))
      .filter((l) => l.alias === `zonectl/${project}` || l.alias.startsWith(`zonectl/${project}/`));
  }

  function mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/zonectl/${project}/`) || l.includes(`/zonectl/projects/${project}/`));
  }

  function nftTables(): string[] {
    return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(' ').pop() ?? '').filter((t) => t === `zonectl-${project}`);
  }

  /** Host processes of the project: its supervisors and inits (by their spec path), anything in its cgroups. */
  function processes(): number[] {
    const out = new Set<number>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      if (readIf(`/proc/${d}/cmdline`).includes(`${RUN}/`) || readIf(`/proc/${d}/cgroup`).includes(`/zonectl/${project}/`)) out.add(Number(d));
    }
    return [...out].sort((a, b) => a - b);
  }

  function supervisors(): number[] {
    return processes().filter((p) => readIf(`/proc/${p}/cmdline`).includes(`${RUN}/`) && !readIf(`/proc/${p}/cgroup`).includes(`/zonectl/${project}/`));
  }

  /** The lock file names a live zonectl (the holder writes its pid once it has the lock). */
  function lockHolderRunning(): boolean {
    const pid = Number.parseInt(readIf(`${RUN}/lock`).trim(), 10);
    return pid > 0 && readIf(`/proc/${pid}/cmdline`).includes('zonectl.cjs');
  }

  function leftovers(): string[] {
    return [
      ...cgroupDirs().map((d) => `cgroup ${d}`),
      ...(existsSync(RUN) ? [`run dir ${RUN}: ${readdirSync(RUN).join(' ')}`] : []),
      ...(existsSync(LIB) ? [`lib dir ${LIB}`] : []),
      ...mounts().map((m) => `mount ${m}`),
      ...links().map((l) => `link ${l.name} (${l.alias})`),
      ...nftTables().map((t) => `nft table ${t}`),
      ...processes().map((p) => `process ${p}: ${readIf(`/proc/${p}/cmdline`).replaceAll('\0', ' ')}`),
      ...(emptyRunMount() ? [`mount ${dirname(RUN)}: zonectl's tmpfs, with nothing left in it`] : []),
    ];
  }

  /** zonectl's own tmpfs on /run/zonectl (where /run is on a disk) with nothing in it: the last run out unmounts it. */
  function emptyRunMount(): boolean {
    const dir = dirname(RUN);
    const ours = readIf('/proc/self/mountinfo').split('\n').some((l) => l.split(' ')[4] === dir && / - tmpfs zonectl /.test(l));
    return ours && (!existsSync(dir) || readdirSync(dir).length === 0);
  }

  async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = f();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
});
