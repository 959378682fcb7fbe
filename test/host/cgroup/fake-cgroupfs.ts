// A fake cgroup filesystem in a temp dir that emulates the kernel just enough for the
// drivers: control files with kernel defaults appear on mkdir (v2: only for controllers the
// parent enables in cgroup.subtree_control), values written are stored in the form the kernel
// shows them, rmdir refuses a cgroup with children or processes (EBUSY), and every write is
// recorded so tests can assert on exact file names and values.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { HostError } from '../../../src/host/errors.js';
import type { CgroupFs } from '../../../src/host/cgroup/fs.js';

export const V1_UNLIMITED = '9223372036854771712';
const PAGE = 4096;

export interface FakeOptions {
  version: 1 | 2;
  /** Host CPUs (root cpuset). */
  cpus?: string;
  /** v2: memory.swap.max exists; v1: memory.memsw.* exist. */
  swapAccounting?: boolean;
  /** v2: cgroup.kill exists (5.14+). */
  cgroupKill?: boolean;
  /** v2 controllers the root offers. */
  controllers?: string[];
  /** v1 controller mounts (directory names under the root; `cpu,cpuacct` co-mounts). */
  hierarchies?: string[];
  /**
   * v1: hierarchies with no controller, where an init tracks its services: a name (`systemd`:
   * mounted with name=systemd) or `unified` (a hybrid host's cgroup2 mount). Their cgroups
   * hold only cgroup.procs, tasks and cgroup.clone_children here, even `unified`'s.
   */
  tracking?: string[];
}

export interface Write {
  /** Relative to the fake root. */
  path: string;
  value: string;
}

const V1_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.shares': '1024', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n' },
  cpuacct: { 'cpuacct.usage': '0', 'cpuacct.usage_user': '0', 'cpuacct.usage_sys': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  memory: {
    'memory.limit_in_bytes': V1_UNLIMITED,
    'memory.soft_limit_in_bytes': V1_UNLIMITED,
    'memory.usage_in_bytes': '0',
    'memory.max_usage_in_bytes': '0',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  blkio: {
    'blkio.bfq.weight': '100',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
    'blkio.throttle.io_serviced_recursive': 'Total 0\n',
  },
  freezer: { 'freezer.state': 'THAWED' },
};

const V2_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.max': 'max 100000', 'cpu.weight': '100', 'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  memory: {
    'memory.max': 'max',
    'memory.high': 'max',
    'memory.low': '0',
    'memory.current': '0',
    'memory.peak': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
  },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  io: { 'io.weight': 'default 100', 'io.max': '', 'io.stat': '' },
};

function fail(op: string, path: string, code: string, value?: string): never {
  throw new HostError(`${op}${value === undefined ? '' : ` ${value} to`} ${path}: ${code}`, { code, path, ...(value === undefined ? {} : { value }) });
}

function cpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',').filter(Boolean)) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    for (let c = lo; c <= hi!; c++) out.push(c);
  }
  return out;
}

function pageFloor(text: string): string {
  return String(Math.floor(Number(text) / PAGE) * PAGE);
}

export class FakeCgroupFs implements CgroupFs {
  readonly root: string;
  readonly writes: Write[] = [];
  /** Every file read, relative to the root, in order. */
  readonly reads: string[] = [];
  /** Paths the driver asked exists() about, relative to the root. */
  readonly stats: string[] = [];
  /** Called after a write is stored: lets a test emulate reclaim or the OOM killer. */
  onWrite: (path: string, value: string) => void = () => undefined;
  private readonly opts: Required<FakeOptions>;

  constructor(options: FakeOptions) {
    this.opts = {
      cpus: '0-3',
      swapAccounting: true,
      cgroupKill: true,
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
      hierarchies: ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer'],
      tracking: [],
      ...options,
    };
    this.root = mkdtempSync(join(tmpdir(), `zonectl-fake-cgv${options.version}-`));
    if (this.opts.version === 2) {
      this.put(this.root, { 'cgroup.controllers': this.opts.controllers.join(' '), 'cgroup.subtree_control': '', 'cgroup.procs': '', 'cpuset.cpus.effective': this.opts.cpus, 'cpuset.mems.effective': '0', 'cpu.stat': 'usage_usec 0\n' });
    } else {
      for (const h of [...this.opts.hierarchies, ...this.opts.tracking]) {
        const dir = join(this.root, h);
        mkdirSync(dir);
        this.put(dir, { 'cgroup.procs': '', tasks: '', 'cgroup.clone_children': '0' });
        for (const c of h.split(',')) {
          // The root cgroup has no limits files of its own for pids and freezer; cpuset/memory have the host's.
          if (c === 'cpuset') this.put(dir, { 'cpuset.cpus': this.opts.cpus, 'cpuset.mems': '0' });
          if (c === 'memory') this.put(dir, { 'memory.limit_in_bytes': V1_UNLIMITED, ...(this.opts.swapAccounting ? { 'memory.memsw.limit_in_bytes': V1_UNLIMITED } : {}) });
        }
      }
    }
  }

  /** A mount table that puts this tree where the host's cgroups would be (use with `root`). */
  mountinfo(): string {
    if (this.opts.version === 2) return '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n';
    return [...this.opts.hierarchies, ...this.opts.tracking.map((t) => (t === 'unified' ? t : `name=${t}`))]
      .map((h, i) => {
        const [dir, fs, opts] = h === 'unified' ? [h, 'cgroup2 cgroup2', 'rw'] : [h.replace(/^name=/, ''), 'cgroup cgroup', `rw,${h}`];
        return `${32 + i} 31 0:${29 + i} / /sys/fs/cgroup/${dir} rw,relatime - ${fs} ${opts}`;
      })
      .join('\n');
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The absolute path of `rel` in the tree. */
  path(rel: string): string {
    return join(this.root, rel);
  }

  /** Test-side read of a file, trimmed. */
  get(rel: string): string {
    return readFileSync(this.path(rel), 'utf8').trim();
  }

  /** Test-side write that bypasses emulation and recording (usage counters, drift by hand). */
  set(rel: string, value: string): void {
    writeFileSync(this.path(rel), value);
  }

  /** Writes recorded under `prefix` (relative), in order. */
  writesUnder(prefix: string): Write[] {
    return this.writes.filter((w) => w.path.startsWith(prefix));
  }

  /** Removes a fake process from every cgroup (what SIGKILL does in this fake). */
  killPid(pid: number): void {
    for (const dir of this.allDirs(this.root)) {
      const procs = join(dir, 'cgroup.procs');
      if (!(statSync(procs, { throwIfNoEntry: false })?.isFile() ?? false)) continue; // the v1 tree's top holds only mounts
      const text = readFileSync(procs, 'utf8');
      const kept = text.split('\n').filter((l) => l !== '' && Number(l) !== pid);
      if (kept.length !== text.split('\n').filter((l) => l !== '').length) writeFileSync(procs, kept.map((l) => `${l}\n`).join(''));
    }
  }

  private allDirs(dir: string): string[] {
    const out = [dir];
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...this.allDirs(join(dir, e.name)));
    return out;
  }

  private put(dir: string, files: Record<string, string>): void {
    for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
  }

  /** The v1 controllers of the hierarchy holding `abs`. */
  private controllersOf(abs: string): string[] {
    return relative(this.root, abs).split('/')[0]!.split(',');
  }

  // ------------------------------------------------------------------ CgroupFs

  async read(path: string): Promise<string> {
    this.reads.push(relative(this.root, path));
    if (statSync(path, { throwIfNoEntry: false }) === undefined) fail('read', path, 'ENOENT');
    return readFileSync(path, 'utf8');
  }

  async readAll(paths: string[]): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (const p of paths) out.push(this.present(p) ? await this.read(p) : null);
    return out;
  }

  async exists(path: string): Promise<boolean> {
    this.stats.push(relative(this.root, path));
    return this.present(path);
  }

  /** exists() without recording it: the fake's own checks. */
  private present(path: string): boolean {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  }

  async subdirs(path: string): Promise<string[]> {
    return readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async mkdir(path: string): Promise<boolean> {
    if (this.present(path)) return false;
    if (!this.present(dirname(path))) fail('mkdir', path, 'ENOENT');
    mkdirSync(path);
    const parent = dirname(path);
    if (this.opts.version === 2) {
      const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter(Boolean);
      this.put(path, { 'cgroup.procs': '', 'cgroup.controllers': enabled.join(' '), 'cgroup.subtree_control': '', 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.freeze': '0' });
      if (this.opts.cgroupKill) this.put(path, { 'cgroup.kill': '' });
      for (const c of enabled) {
        this.put(path, V2_FILES[c] ?? {});
        if (c === 'memory' && this.opts.swapAccounting) this.put(path, { 'memory.swap.max': 'max', 'memory.swap.current': '0' });
        if (c === 'cpuset') this.put(path, { 'cpuset.cpus.effective': readFileSync(join(parent, 'cpuset.cpus.effective'), 'utf8'), 'cpuset.mems.effective': '0' });
      }
    } else {
      // the kernel: a child inherits its parent's clone_children, and with it set, a new
      // cpuset starts with its parent's cpus and mems (empty otherwise)
      const cloning = readFileSync(join(parent, 'cgroup.clone_children'), 'utf8').trim();
      this.put(path, { 'cgroup.procs': '', tasks: '', 'cgroup.clone_children': cloning });
      for (const c of this.controllersOf(path)) {
        this.put(path, V1_FILES[c] ?? {});
        if (c === 'memory' && this.opts.swapAccounting) this.put(path, { 'memory.memsw.limit_in_bytes': V1_UNLIMITED });
        if (c === 'cpuset' && cloning === '1') {
          this.put(path, { 'cpuset.cpus': readFileSync(join(parent, 'cpuset.cpus'), 'utf8'), 'cpuset.mems': readFileSync(join(parent, 'cpuset.mems'), 'utf8') });
        }
      }
    }
    return true;
  }

  async rmdir(path: string): Promise<void> {
    if (!this.present(path)) fail('rmdir', path, 'ENOENT');
    if ((await this.subdirs(path)).length > 0) fail('rmdir', path, 'EBUSY');
    if (readFileSync(join(path, 'cgroup.procs'), 'utf8').trim() !== '') fail('rmdir', path, 'EBUSY');
    rmSync(path, { recursive: true });
  }

  async write(path: string, value: string): Promise<void> {
    if (!this.present(path)) fail('write', path, 'ENOENT', value);
    this.writes.push({ path: relative(this.root, path), value });
    const stored = this.emulate(path, value);
    writeFileSync(path, stored);
    this.onWrite(path, value);
  }

  /** What the kernel would show after `value` is written to `path`; throws its error codes. */
  private emulate(path: string, value: string): string {
    const file = basename(path);
    const dir = dirname(path);
    const current = readFileSync(path, 'utf8');
    const v = value.trim();
    const num = (f: string): number => Number(readFileSync(join(dir, f), 'utf8').trim());
    switch (file) {
      case 'cgroup.subtree_control': {
        const set = new Set(current.trim().split(/\s+/).filter(Boolean));
        const available = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
        for (const tok of v.split(/\s+/)) {
          const c = tok.slice(1);
          if (!available.includes(c)) fail('write', path, 'ENOENT', value);
          if (tok.startsWith('+')) set.add(c);
          else set.delete(c);
        }
        return [...set].join(' ');
      }
      case 'cgroup.procs': {
        if (!/^[0-9]+$/.test(v)) fail('write', path, 'EINVAL', value);
        if (this.opts.version === 1 && this.controllersOf(path).includes('cpuset') && readFileSync(join(dir, 'cpuset.cpus'), 'utf8').trim() === '') fail('write', path, 'ENOSPC', value);
        // A process lives in one cgroup per hierarchy.
        const top = this.opts.version === 2 ? this.root : join(this.root, relative(this.root, path).split('/')[0]!);
        for (const d of this.allDirs(top)) {
          const f = join(d, 'cgroup.procs');
          writeFileSync(f, readFileSync(f, 'utf8').split('\n').filter((l) => l !== '' && l !== v).map((l) => `${l}\n`).join(''));
        }
        return `${readFileSync(path, 'utf8')}${v}\n`;
      }
      case 'cgroup.kill':
        for (const d of this.allDirs(dir)) writeFileSync(join(d, 'cgroup.procs'), '');
        return '';
      case 'cpu.max': {
        const [quota, period] = v.split(/\s+/);
        return `${quota} ${period ?? current.trim().split(/\s+/)[1]}`;
      }
      case 'cpu.weight':
      case 'cpu.shares':
      case 'cpu.cfs_period_us':
      case 'pids.max':
        if (!/^([0-9]+|max)$/.test(v)) fail('write', path, 'EINVAL', value);
        return v;
      case 'cpu.cfs_quota_us':
        if (!/^(-1|[0-9]+)$/.test(v)) fail('write', path, 'EINVAL', value);
        return v;
      case 'io.weight':
        return `default ${v.replace(/^default\s+/, '')}`;
      case 'io.max': {
        const [dev, ...pairs] = v.split(/\s+/);
        const lines = new Map(current.split('\n').filter(Boolean).map((l) => [l.split(' ')[0]!, l]));
        const fields = new Map((lines.get(dev!) ?? `${dev} rbps=max wbps=max riops=max wiops=max`).split(' ').slice(1).map((p) => p.split('=') as [string, string]));
        for (const p of pairs) fields.set(p.split('=')[0]!, p.split('=')[1]!);
        if ([...fields.values()].every((x) => x === 'max')) lines.delete(dev!);
        else lines.set(dev!, `${dev} ${[...fields].map(([k, x]) => `${k}=${x}`).join(' ')}`);
        return [...lines.values()].map((l) => `${l}\n`).join('');
      }
      case 'memory.max':
      case 'memory.high':
      case 'memory.swap.max':
      case 'memory.low':
        return v === 'max' ? 'max' : pageFloor(v);
      case 'memory.limit_in_bytes':
      case 'memory.memsw.limit_in_bytes':
      case 'memory.soft_limit_in_bytes': {
        const bytes = v === '-1' ? V1_UNLIMITED : pageFloor(v);
        const big = (s: string): bigint => BigInt(s.trim());
        if (file === 'memory.limit_in_bytes') {
          if (this.opts.swapAccounting && big(bytes) > big(readFileSync(join(dir, 'memory.memsw.limit_in_bytes'), 'utf8'))) fail('write', path, 'EINVAL', value);
          if (big(bytes) < BigInt(num('memory.usage_in_bytes'))) fail('write', path, 'EBUSY', value);
        }
        if (file === 'memory.memsw.limit_in_bytes' && big(bytes) < big(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8'))) fail('write', path, 'EINVAL', value);
        return bytes;
      }
      case 'cpuset.cpus': {
        if (this.opts.version === 1) {
          const want = cpuList(v);
          const parent = cpuList(readFileSync(join(dir, '..', 'cpuset.cpus'), 'utf8'));
          if (want.some((c) => !parent.includes(c))) fail('write', path, 'EINVAL', value);
          for (const child of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
            if (cpuList(readFileSync(join(dir, child.name, 'cpuset.cpus'), 'utf8')).some((c) => !want.includes(c))) fail('write', path, 'EBUSY', value);
          }
        }
        return v;
      }
      case 'blkio.throttle.read_bps_device':
      case 'blkio.throttle.write_bps_device':
      case 'blkio.throttle.read_iops_device':
      case 'blkio.throttle.write_iops_device': {
        const [dev, n] = v.split(/\s+/);
        const lines = new Map(current.split('\n').filter(Boolean).map((l) => [l.split(' ')[0]!, l]));
        if (n === '0') lines.delete(dev!);
        else lines.set(dev!, `${dev} ${n}`);
        return [...lines.values()].map((l) => `${l}\n`).join('');
      }
      default:
        return v;
    }
  }
}

/** The /dev paths of the fake's block devices. */
export const FAKE_DEVICES = {
  async toMajMin(path: string): Promise<string> {
    const known: Record<string, string> = { '/dev/vda': '254:0', '/dev/sdb': '8:16' };
    const mm = known[path];
    if (mm === undefined) throw new HostError(`stat ${path}: ENOENT`, { code: 'ENOENT', path });
    return mm;
  },
  async toPath(majMin: string): Promise<string> {
    const known: Record<string, string> = { '254:0': '/dev/vda', '8:16': '/dev/sdb' };
    return known[majMin] ?? `/dev/block/${majMin}`;
  },
};
