// `zonectl up --watch` against the real kernel (root only): the CLI runs as a child process on a
// temporary -f DIR, the test edits the files and reads the facts back from the kernel: the
// zone's cgroup limit files and the pid of its init (unchanged by in-place changes).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRoot } from '../helpers/root.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'zonectl.cjs');
const project = `zt-w-${randomBytes(4).toString('hex')}`;
const subnet = `10.213.${208 + randomInt(8)}.0/24`;
const M = 1024 * 1024;
const v2 = readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => /^\S+ \/sys\/fs\/cgroup cgroup2 /.test(l));
const memoryFile = v2 ? `/sys/fs/cgroup/zonectl/${project}/a/memory.max` : `/sys/fs/cgroup/memory/zonectl/${project}/a/memory.limit_in_bytes`;
const cpuFile = v2 ? `/sys/fs/cgroup/zonectl/${project}/a/cpu.max` : `/sys/fs/cgroup/cpu/zonectl/${project}/a/cpu.cfs_quota_us`;

interface Report {
  trigger: string;
  files: string[];
  status: string;
  applied: string[];
  ms: number;
  errors: { file?: string; line?: number; column?: number; path?: string; message: string }[];
}

let dir = '';
let zones = '';
let watcher: ChildProcess | null = null;
const reports: Report[] = [];
let stderr = '';
let exited: Promise<number | null> = Promise.resolve(null);

function zonectl(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args, '-f', zones], { encoding: 'utf8', timeout: 60_000 });
}

function zoneFile(memory: string, cpus = '0.5'): string {
  return `zones:\n  a:\n    command: ["/bin/sleep", "infinity"]\n    networks: [lan]\n    limits:\n      memory: ${memory}\n      cpus: ${cpus}\n`;
}

function memory(): number {
  return Number(readFileSync(memoryFile, 'utf8').trim());
}

function pidOfA(): number {
  const r = zonectl('ps', '--json');
  const rows = JSON.parse(r.stdout) as { name: string; pid: number | null }[];
  return rows.find((z) => z.name === 'a')?.pid ?? 0;
}

async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until || (watcher !== null && watcher.exitCode !== null)) throw new Error(`timed out waiting for ${what}; reports: ${JSON.stringify(reports)}; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The next report (after `from`) that matches. */
function nextReport(what: string, from: number, match: (r: Report) => boolean, timeoutMs = 10_000): Promise<Report> {
  return waitFor(what, () => reports.slice(from).find(match), timeoutMs);
}

const atomicWrite = (path: string, text: string): void => {
  const tmp = join(zones, `.${Date.now()}.swp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
};

describeRoot('zonectl up --watch (real kernel)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonectl-watch-'));
    // -f DIR is a symlink to a release, as a deploy tool lays it out: `zones -> releases/r1`
    zones = join(dir, 'zones');
    mkdirSync(join(dir, 'releases', 'r1'), { recursive: true });
    symlinkSync(join(dir, 'releases', 'r1'), zones);
    writeFileSync(join(zones, '00-base.yaml'), `name: ${project}\ndefaults:\n  stop_grace_period: 1s\nnetworks:\n  lan: { subnet: ${subnet} }\n`);
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('${MEM:-32M}'));
    writeFileSync(join(zones, '.env'), 'MEM=64M\n');
    watcher = spawn(process.execPath, [bin, 'up', '--watch', '--json', '--resync', '1s', '-f', zones], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    watcher.stdout?.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        reports.push(JSON.parse(buf.slice(0, i)) as Report);
        buf = buf.slice(i + 1);
      }
    });
    watcher.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const child = watcher;
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await nextReport('the first apply', 0, (r) => r.trigger === 'start', 30_000);
  });

  afterAll(async () => {
    if (watcher && watcher.exitCode === null && watcher.signalCode === null) {
      watcher.kill('SIGKILL');
      await exited;
    }
    if (zones) zonectl('down', '--volumes');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let pid = 0;
  it('applies the files first, the .env included: memory.limit reads 64M', () => {
    expect(reports[0]).toMatchObject({ trigger: 'start', status: 'applied' });
    expect(memory()).toBe(64 * M);
    pid = pidOfA();
    expect(pid).toBeGreaterThan(0);
  });

  it('a limit edit is applied in place: the cgroup files change, the pid does not', async () => {
    const from = reports.length;
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('96M', '0.25'));
    const r = await nextReport('the edit', from, (x) => x.trigger === 'change');
    expect(r.status).toBe('applied');
    expect(r.applied).toEqual([expect.stringMatching(/^update zone\.a .*limits\.memory=64M→96M/)]);
    expect(memory()).toBe(96 * M);
    expect(readFileSync(cpuFile, 'utf8').trim()).toBe(v2 ? '25000 100000' : '25000');
    expect(pidOfA()).toBe(pid);
    console.log(`file event → applied (limits.memory, limits.cpus): ${r.ms} ms`);
  });

  it('an invalid edit prints its located error and changes nothing; the next valid edit is applied', async () => {
    let from = reports.length;
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('12 apples'));
    const bad = await nextReport('the invalid edit', from, (x) => x.trigger === 'change');
    expect(bad.status).toBe('invalid');
    expect(bad.errors).toEqual([expect.objectContaining({ file: expect.stringMatching(/10-a\.yaml$/), line: 6, path: 'zones.a.limits.memory' })]);
    expect(memory()).toBe(96 * M);
    // a resync while the files are invalid keeps the last good state (and says nothing)
    await new Promise((r) => setTimeout(r, 1500));
    expect(reports.slice(from + 1).filter((x) => x.status !== 'unchanged')).toEqual([]);
    expect(memory()).toBe(96 * M);
    from = reports.length;
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('80M', '0.25'));
    const good = await nextReport('the valid edit', from, (x) => x.trigger === 'change');
    expect(good.status).toBe('applied');
    // a resync (every 1 s here) that runs between the write and its file event reverts drift
    // to the files as last loaded: it never applies the edit itself
    expect(reports.slice(from).filter((x) => x.trigger === 'resync' && x.status !== 'unchanged')).toEqual([]);
    expect(memory()).toBe(80 * M);
    expect(pidOfA()).toBe(pid);
  });

  it('an atomic save (write a temp file, rename it over the file) is picked up', async () => {
    const from = reports.length;
    atomicWrite(join(zones, '10-a.yaml'), zoneFile('72M', '0.25'));
    const r = await nextReport('the atomic save', from, (x) => x.trigger === 'change');
    expect(r.status).toBe('applied');
    expect(r.files).toEqual([expect.stringMatching(/10-a\.yaml$/)]); // the temp file is not watched
    expect(memory()).toBe(72 * M);
    expect(pidOfA()).toBe(pid);
  });

  it('a deploy that swaps the -f symlink to a new release is picked up; edits in the new release after it', async () => {
    const r2 = join(dir, 'releases', 'r2');
    cpSync(realpathSync(zones), r2, { recursive: true });
    writeFileSync(join(r2, '10-a.yaml'), zoneFile('88M', '0.25'));
    const from = reports.length;
    symlinkSync(r2, join(dir, 'zones.next'));
    renameSync(join(dir, 'zones.next'), zones); // atomic: the link is replaced, no moment without one
    const r = await nextReport('the swap', from, (x) => x.trigger === 'change');
    expect(r.status).toBe('applied');
    expect(memory()).toBe(88 * M);
    expect(pidOfA()).toBe(pid);
    // the watch follows the new release (the old one is no longer read)
    writeFileSync(join(dir, 'releases', 'r1', '10-a.yaml'), zoneFile('40M', '0.25'));
    const next = reports.length;
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('84M', '0.25'));
    const edit = await nextReport('an edit in the new release', next, (x) => x.trigger === 'change' && x.status === 'applied');
    expect(edit.files).toEqual([expect.stringMatching(/zones\/10-a\.yaml$/)]);
    expect(memory()).toBe(84 * M);
  });

  it('a burst of 10 files (a checkout) is one reconcile', async () => {
    const from = reports.length;
    for (let i = 0; i < 9; i++) writeFileSync(join(zones, `3${i}-burst.yaml`), `x-burst-${i}: ${i}\n`);
    writeFileSync(join(zones, '10-a.yaml'), zoneFile('88M', '0.25'));
    const r = await nextReport('the burst', from, (x) => x.trigger === 'change');
    await new Promise((res) => setTimeout(res, 700)); // any second reconcile would show by now
    expect(reports.slice(from).filter((x) => x.trigger === 'change')).toHaveLength(1);
    expect(r.files).toHaveLength(10);
    expect(r.status).toBe('applied');
    expect(memory()).toBe(88 * M);
  });

  it('drift (a limit written by hand into the cgroup) is reverted within the resync interval', async () => {
    const from = reports.length;
    writeFileSync(memoryFile, String(48 * M));
    expect(memory()).toBe(48 * M);
    const r = await nextReport('the resync', from, (x) => x.trigger === 'resync' && x.status !== 'unchanged', 5000);
    expect(r.status).toBe('applied');
    expect(r.applied).toEqual([expect.stringMatching(/^update zone\.a limits\.memory=48M→88M/)]);
    expect(memory()).toBe(88 * M);
    expect(pidOfA()).toBe(pid);
  });

  it('a second up --watch on the project is refused; a plain up still runs (the apply lock is per reconcile)', () => {
    const second = spawnSync(process.execPath, [bin, 'up', '--watch', '-f', zones], { encoding: 'utf8', timeout: 20_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`project ${project} is already watched by another zonectl up --watch \\(pid ${watcher?.pid}\\)`));
    const plain = zonectl('up');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain('nothing to do');
  });

  it('SIGTERM stops the watch: exit 0, the zone keeps running', async () => {
    watcher?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pidOfA()).toBe(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(existsSync(`/run/zonectl/${project}/watch.lock`)).toBe(false);
  });

  it('a watch killed by SIGKILL leaves its lock behind (down removes it, below)', async () => {
    const lock = `/run/zonectl/${project}/watch.lock`;
    const w = spawn(process.execPath, [bin, 'up', '--watch', '--json', '-f', zones], { stdio: ['ignore', 'pipe', 'ignore'] });
    const gone = new Promise((resolve) => w.once('exit', resolve));
    await new Promise((resolve) => w.stdout?.once('data', resolve)); // its first reconcile: it holds the lock
    expect(existsSync(lock)).toBe(true);
    w.kill('SIGKILL');
    await gone;
    expect(existsSync(lock)).toBe(true); // held by no one
  });

  it('then down leaves nothing of the project', () => {
    const r = zonectl('down', '--volumes');
    expect(r.status).toBe(0);
    expect(existsSync(`/run/zonectl/${project}`)).toBe(false);
    expect(existsSync(`/var/lib/zonectl/projects/${project}`)).toBe(false);
    const cgroups = v2 ? [`/sys/fs/cgroup/zonectl/${project}`] : readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}/zonectl/${project}`);
    expect(cgroups.filter((c) => existsSync(c))).toEqual([]);
    expect(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout).not.toContain(`zonectl/${project}/`);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
