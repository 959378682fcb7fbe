// cgroup v2 (unified hierarchy) driver.
//
// Files: cpu.max, cpu.weight, cpuset.cpus, memory.max, memory.swap.max, memory.low,
// memory.high (only to stage a shrink), pids.max, io.weight, io.max. Controllers are enabled
// in cgroup.subtree_control of ROOT, ROOT/zonectl and ROOT/zonectl/PROJECT; processes only
// live in the zone leaves (no-internal-processes rule).

import { join } from 'node:path';
import type { IoDeviceLimits, Limits } from '../../model/types.js';
import { CPU_PERIOD_US, formatCpuset } from '../../model/units.js';
import { HostError } from '../errors.js';
import type { DriverDeps } from './deps.js';
import { isProjectEntry, supervisorsName, TOP } from './deps.js';
import type { ApplyReport, CgroupDriver, Usage, ZoneName } from './driver.js';
import { formatMax, parseCount, parseCpuList, parseFlatKeyed, parseMax, parseNestedKeyed } from './format.js';
import { cappedDevices, Fresh, neutralLimits, pageFloor } from './limits.js';
import { absentReason, ControlFiles, Outcomes, readIfPresent, tryWrite, writeChecked } from './outcomes.js';
import { killAll, removeSupervisors, removeTopIfEmpty, removeTree, subtreeProcs } from './removal.js';
import { pollUntil } from './wait.js';

/** The controllers zonectl enables down its path. */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids', 'io'] as const;

const IO_KEYS = [['rbps', 'read_bps'], ['wbps', 'write_bps'], ['riops', 'read_iops'], ['wiops', 'write_iops']] as const;

/** The files read() reads. */
const READ_FILES = ['cpu.max', 'cpu.weight', 'cpuset.cpus', 'memory.max', 'memory.swap.max', 'memory.low', 'pids.max', 'io.weight', 'io.max'] as const;

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  /** Cgroups this driver made and has not applied limits to yet (limits.ts: Fresh). */
  private readonly fresh = new Fresh();
  private readonly files: ControlFiles;

  constructor(
    private readonly root: string,
    private readonly deps: DriverDeps,
  ) {
    this.files = new ControlFiles(deps.fs);
  }

  private dir(project: string, zone: ZoneName = null): string {
    return zone === null ? join(this.root, TOP, project) : join(this.root, TOP, project, zone);
  }

  private name(project: string, zone: ZoneName): string {
    return zone === null ? `${TOP}/${project}` : `${TOP}/${project}/${zone}`;
  }

  /** Enables in `dir`'s subtree_control every zonectl controller that `dir` has. */
  private async enableControllers(dir: string): Promise<void> {
    const { fs } = this.deps;
    const available = (await fs.read(join(dir, 'cgroup.controllers'))).trim().split(/\s+/);
    const enabled = (await fs.read(join(dir, 'cgroup.subtree_control'))).trim().split(/\s+/);
    for (const c of V2_CONTROLLERS) {
      if (available.includes(c) && !enabled.includes(c)) await fs.write(join(dir, 'cgroup.subtree_control'), `+${c}`);
    }
  }

  private async requireDir(project: string, zone: ZoneName): Promise<string> {
    const dir = this.dir(project, zone);
    if (!(await this.deps.fs.exists(dir))) throw new HostError(`cgroup ${this.name(project, zone)} does not exist (${dir})`, { path: dir, code: 'ENOENT' });
    return dir;
  }

  async ensureProject(project: string, limits: Limits): Promise<ApplyReport> {
    const { fs } = this.deps;
    await this.enableControllers(this.root);
    await fs.mkdir(join(this.root, TOP));
    await this.enableControllers(join(this.root, TOP));
    if (await fs.mkdir(this.dir(project))) this.fresh.made(this.name(project, null));
    await this.enableControllers(this.dir(project));
    return this.apply(project, null, limits);
  }

  async create(project: string, zone: string): Promise<string[]> {
    const parent = await this.requireDir(project, null);
    await this.enableControllers(parent);
    if (await this.deps.fs.mkdir(this.dir(project, zone))) this.fresh.made(this.name(project, zone));
    return [join(this.dir(project, zone), 'cgroup.procs')];
  }

  async supervisors(project: string): Promise<string[]> {
    // beside the project's cgroup, which ensureProject made under TOP before any zone starts
    const dir = join(this.root, TOP, supervisorsName(project));
    await this.deps.fs.mkdir(dir);
    return [join(dir, 'cgroup.procs')];
  }

  async apply(project: string, zone: ZoneName, limits: Limits): Promise<ApplyReport> {
    const fresh = this.fresh.take(this.name(project, zone));
    const dir = fresh ? this.dir(project, zone) : await this.requireDir(project, zone);
    const parent = join(dir, '..');
    const out = new Outcomes();
    const plain = async (limit: string, file: string, value: string, neutral: boolean, controller: string, holds: (t: string) => boolean): Promise<void> => {
      const path = join(dir, file);
      if (neutral && fresh) {
        out.applied(limit, path, value);
        return;
      }
      if (!(await this.files.has(path))) {
        if (neutral) out.applied(limit, path, value);
        else out.infeasible(limit, path, value, absentReason(path, controller));
        return;
      }
      const why = await writeChecked(this.deps.fs, path, value, holds, fresh);
      if (why === null) out.applied(limit, path, value);
      else out.infeasible(limit, path, value, why);
    };

    // cpu
    const cpuMax = limits.cpus === null ? `max ${CPU_PERIOD_US}` : `${limits.cpus.quota_us} ${limits.cpus.period_us}`;
    await plain('cpus', 'cpu.max', cpuMax, limits.cpus === null, 'cpu', (t) =>
      limits.cpus === null ? t.startsWith('max') : t === cpuMax,
    );
    await plain('cpu_weight', 'cpu.weight', String(limits.cpu_weight), limits.cpu_weight === 100, 'cpu', (t) => t === String(limits.cpu_weight));

    // cpuset: must lie within what the parent has
    if (fresh && limits.cpuset === null) out.applied('cpuset', join(dir, 'cpuset.cpus'), '');
    else await this.applyCpuset(out, dir, parent, limits.cpuset);

    // memory: the cap (maybe deferred), then swap on top, then the protection
    if (fresh && limits.memory === null) out.applied('memory', join(dir, 'memory.max'), formatMax(null));
    else await this.applyMemory(out, dir, limits.memory, fresh);
    const swapFile = join(dir, 'memory.swap.max');
    const swapValue = formatMax(limits.memory_swap);
    if (fresh && limits.memory_swap === null) {
      out.applied('memory_swap', swapFile, swapValue);
    } else if (!(await this.files.has(swapFile))) {
      if (limits.memory_swap === null || (limits.memory_swap === 0 && !this.deps.hostHasSwap)) out.applied('memory_swap', swapFile, swapValue);
      else out.infeasible('memory_swap', swapFile, swapValue, `swap accounting is not available here: ${swapFile} is absent (controller memory without swap accounting)`);
    } else {
      const why = await writeChecked(this.deps.fs, swapFile, swapValue, (t) => t === formatMax(pageFloor(limits.memory_swap, this.deps.pageSize)), fresh);
      if (why === null) out.applied('memory_swap', swapFile, swapValue);
      else out.infeasible('memory_swap', swapFile, swapValue, why);
    }
    const low = String(limits.memory_reservation ?? 0);
    await plain('memory_reservation', 'memory.low', low, limits.memory_reservation === null, 'memory', (t) => t === String(pageFloor(limits.memory_reservation ?? 0, this.deps.pageSize)));

    // pids
    await plain('pids', 'pids.max', formatMax(limits.pids), limits.pids === null, 'pids', (t) => t === formatMax(limits.pids));

    // io
    await plain('io.weight', 'io.weight', `default ${limits.io.weight}`, limits.io.weight === 100, 'io', (t) => /^default\s+([0-9]+)/.exec(t)?.[1] === String(limits.io.weight));
    if (!fresh || Object.keys(cappedDevices(limits.io.devices)).length > 0) await this.applyIoMax(out, dir, limits.io.devices);

    return { cgroup: this.name(project, zone), outcomes: out.list };
  }

  private async applyCpuset(out: Outcomes, dir: string, parent: string, cpuset: number[] | null): Promise<void> {
    const { fs } = this.deps;
    const file = join(dir, 'cpuset.cpus');
    const value = cpuset === null ? '' : formatCpuset(cpuset);
    if (!(await this.files.has(file))) {
      if (cpuset === null) out.applied('cpuset', file, value);
      else out.infeasible('cpuset', file, value, absentReason(file, 'cpuset'));
      return;
    }
    if (cpuset !== null) {
      const effectiveFile = join(parent, 'cpuset.cpus.effective');
      const have = parseCpuList(await fs.read(effectiveFile), effectiveFile);
      const outside = cpuset.filter((c) => !have.includes(c));
      if (outside.length > 0) {
        out.infeasible('cpuset', file, value, `CPUs ${formatCpuset(outside)} are not in ${effectiveFile} (${formatCpuset(have)})`);
        return;
      }
    }
    // An empty write is no write at all: a newline clears the list (inherit the parent's).
    const why = await writeChecked(fs, file, value === '' ? '\n' : value, (t) => t === value);
    if (why === null) out.applied('cpuset', file, value);
    else out.infeasible('cpuset', file, value, why);
  }

  /**
   * memory.max below current usage would make the kernel OOM-kill at once: stage the new
   * value in memory.high (which throttles and reclaims), wait a bounded time, then apply
   * memory.max — or leave it staged and report it deferred. `fresh`: the cgroup was just made
   * and holds nothing yet (memory.max and memory.high at max, no usage to check).
   */
  private async applyMemory(out: Outcomes, dir: string, memory: number | null, fresh: boolean): Promise<void> {
    const { fs, timings } = this.deps;
    const file = join(dir, 'memory.max');
    const value = formatMax(memory);
    if (!(await this.files.has(file))) {
      if (memory === null) out.applied('memory', file, value);
      else out.infeasible('memory', file, value, absentReason(file, 'memory'));
      return;
    }
    const currentFile = join(dir, 'memory.current');
    const highFile = join(dir, 'memory.high');
    const current = async (): Promise<number> => parseCount(await fs.read(currentFile), currentFile);
    let staging = false;
    if (memory !== null && !fresh && (await current()) > memory) {
      staging = true;
      const staged = await tryWrite(fs, highFile, value);
      if (staged !== null) {
        out.infeasible('memory', file, value, staged.message);
        return;
      }
      const fits = await pollUntil(async () => (await current()) <= memory, timings.reclaimTimeoutMs, timings.pollMs);
      if (!fits) {
        out.deferred('memory', file, value, `${currentFile} is ${await current()}, above ${memory} after ${timings.reclaimTimeoutMs} ms of reclaim; staged in ${highFile}`);
        return;
      }
    }
    const expected = formatMax(pageFloor(memory, this.deps.pageSize));
    const why = await writeChecked(fs, file, value, (t) => t === expected, fresh && !staging);
    if (why !== null) {
      out.infeasible('memory', file, value, why);
      return;
    }
    // Lift a staging value left by this or an earlier apply.
    if ((!fresh || staging) && (await this.files.has(highFile)) && (await fs.read(highFile)).trim() !== 'max') {
      const lifted = await writeChecked(fs, highFile, 'max', (t) => t === 'max');
      if (lifted !== null) {
        out.infeasible('memory', highFile, 'max', lifted);
        return;
      }
    }
    out.applied('memory', file, value);
  }

  private async applyIoMax(out: Outcomes, dir: string, devices: Record<string, IoDeviceLimits>): Promise<void> {
    const { fs } = this.deps;
    const file = join(dir, 'io.max');
    const wanted = cappedDevices(devices);
    if (!(await fs.exists(file))) {
      for (const path of Object.keys(wanted)) out.infeasible(`io.devices.${path}`, file, '', absentReason(file, 'io'));
      return;
    }
    const targets = new Map<string, { path: string; limits: IoDeviceLimits }>();
    for (const [path, limits] of Object.entries(wanted)) {
      try {
        targets.set(await this.deps.devices.toMajMin(path), { path, limits });
      } catch (err) {
        if (!(err instanceof HostError)) throw err;
        out.infeasible(`io.devices.${path}`, file, '', err.message);
      }
    }
    // Lines no longer wanted are cleared by writing max everywhere.
    const unlimited: IoDeviceLimits = { read_bps: null, write_bps: null, read_iops: null, write_iops: null };
    for (const majMin of parseNestedKeyed(await fs.read(file)).keys()) {
      if (!targets.has(majMin)) targets.set(majMin, { path: await this.deps.devices.toPath(majMin), limits: unlimited });
    }
    for (const [majMin, { path, limits }] of targets) {
      const value = `${majMin} ${IO_KEYS.map(([k, m]) => `${k}=${formatMax(limits[m])}`).join(' ')}`;
      const why = await writeChecked(fs, file, value, (t) => {
        const line = parseNestedKeyed(t).get(majMin);
        return IO_KEYS.every(([k, m]) => (line?.[k] ?? 'max') === formatMax(limits[m]));
      });
      if (why === null) out.applied(`io.devices.${path}`, file, value);
      else out.infeasible(`io.devices.${path}`, file, value, why);
    }
  }

  async read(project: string, zone: ZoneName): Promise<Limits> {
    const dir = await this.requireDir(project, zone);
    const { fs } = this.deps;
    const limits = neutralLimits();
    // every file below in one read, off the main thread
    const texts = await fs.readAll(READ_FILES.map((f) => `${dir}/${f}`));
    const byName = new Map(READ_FILES.map((f, i) => [f, texts[i] ?? null]));
    const text = (file: (typeof READ_FILES)[number]): string | null => byName.get(file) ?? null;

    const cpuMax = text('cpu.max');
    if (cpuMax !== null) {
      const [quota, period] = cpuMax.trim().split(/\s+/);
      limits.cpus = quota === 'max' ? null : { quota_us: parseCount(quota ?? '', join(dir, 'cpu.max')), period_us: parseCount(period ?? '', join(dir, 'cpu.max')) };
    }
    const weight = text('cpu.weight');
    if (weight !== null) limits.cpu_weight = parseCount(weight, join(dir, 'cpu.weight'));
    const cpus = text('cpuset.cpus');
    if (cpus !== null) {
      const list = parseCpuList(cpus, join(dir, 'cpuset.cpus'));
      limits.cpuset = list.length === 0 ? null : list;
    }
    const max = text('memory.max');
    if (max !== null) limits.memory = parseMax(max, join(dir, 'memory.max'));
    const swap = text('memory.swap.max');
    // Without swap accounting the kernel cannot say: what holds is no swap without swap devices, else unlimited.
    limits.memory_swap = swap !== null ? parseMax(swap, join(dir, 'memory.swap.max')) : this.deps.hostHasSwap ? null : 0;
    const low = text('memory.low');
    if (low !== null) {
      const n = parseCount(low, join(dir, 'memory.low'));
      limits.memory_reservation = n === 0 ? null : n;
    }
    const pids = text('pids.max');
    if (pids !== null) limits.pids = parseMax(pids, join(dir, 'pids.max'));
    const ioWeight = text('io.weight');
    const w = ioWeight === null ? undefined : /^default\s+([0-9]+)/m.exec(ioWeight)?.[1];
    if (w !== undefined) limits.io.weight = Number(w);
    const ioMax = text('io.max');
    if (ioMax !== null) {
      const devices: Record<string, IoDeviceLimits> = {};
      for (const [majMin, f] of parseNestedKeyed(ioMax)) {
        const d: IoDeviceLimits = { read_bps: null, write_bps: null, read_iops: null, write_iops: null };
        for (const [k, m] of IO_KEYS) d[m] = parseMax(f[k] ?? 'max', join(dir, 'io.max'));
        devices[await this.deps.devices.toPath(majMin)] = d;
      }
      limits.io.devices = cappedDevices(devices);
    }
    return limits;
  }

  canonical(limits: Limits): Limits {
    const page = this.deps.pageSize;
    return {
      ...limits,
      cpuset: limits.cpuset === null || limits.cpuset.length === 0 ? null : [...limits.cpuset],
      memory: pageFloor(limits.memory, page),
      memory_swap: this.deps.swapAccounting ? pageFloor(limits.memory_swap, page) : this.deps.hostHasSwap ? null : 0,
      memory_reservation: limits.memory_reservation === null || pageFloor(limits.memory_reservation, page) === 0 ? null : pageFloor(limits.memory_reservation, page),
      io: { weight: limits.io.weight, devices: cappedDevices(limits.io.devices) },
    };
  }

  async memoryCurrent(project: string, zone: ZoneName): Promise<number | null> {
    const file = join(this.dir(project, zone), 'memory.current');
    const text = await readIfPresent(this.deps.fs, file);
    if (text !== null) return parseCount(text, file);
    await this.requireDir(project, zone);
    return null;
  }

  async usage(project: string, zone: ZoneName): Promise<Usage> {
    const dir = await this.requireDir(project, zone);
    const { fs } = this.deps;
    const unavailable: string[] = [];
    const text = async (file: string): Promise<string> => {
      const t = await readIfPresent(fs, join(dir, file));
      if (t !== null) return t;
      unavailable.push(join(dir, file));
      return '';
    };
    const cpu = parseFlatKeyed(await text('cpu.stat'));
    const events = parseFlatKeyed(await text('memory.events'));
    const current = (await text('memory.current')).trim();
    const peakFile = join(dir, 'memory.peak');
    const peakText = await readIfPresent(fs, peakFile);
    const peak = peakText === null ? null : parseCount(peakText, peakFile);
    const max = (await text('memory.max')).trim();
    const pidsCurrent = (await text('pids.current')).trim();
    const pidsMax = (await text('pids.max')).trim();
    const io = { read_bytes: 0, write_bytes: 0, read_ops: 0, write_ops: 0 };
    for (const f of parseNestedKeyed(await text('io.stat')).values()) {
      io.read_bytes += Number(f.rbytes ?? 0);
      io.write_bytes += Number(f.wbytes ?? 0);
      io.read_ops += Number(f.rios ?? 0);
      io.write_ops += Number(f.wios ?? 0);
    }
    const us = (k: string): number => (cpu.get(k) ?? 0) * 1000;
    return {
      cpu: { usage_ns: us('usage_usec'), user_ns: us('user_usec'), system_ns: us('system_usec'), periods: cpu.get('nr_periods') ?? 0, throttled_periods: cpu.get('nr_throttled') ?? 0, throttled_ns: us('throttled_usec') },
      memory: {
        current: current === '' ? 0 : parseCount(current, join(dir, 'memory.current')),
        peak,
        limit: max === '' ? null : parseMax(max, join(dir, 'memory.max')),
        oom_kills: events.get('oom_kill') ?? 0,
      },
      pids: { current: pidsCurrent === '' ? 0 : parseCount(pidsCurrent, join(dir, 'pids.current')), limit: pidsMax === '' ? null : parseMax(pidsMax, join(dir, 'pids.max')) },
      io,
      unavailable,
    };
  }

  async addProcess(project: string, zone: string, pid: number): Promise<void> {
    const dir = await this.requireDir(project, zone);
    await this.deps.fs.write(join(dir, 'cgroup.procs'), String(pid));
  }

  async procs(project: string, zone: string): Promise<number[]> {
    return subtreeProcs(this.deps.fs, this.dir(project, zone));
  }

  async kill(project: string, zone: string): Promise<void> {
    const { fs, timings } = this.deps;
    const dir = this.dir(project, zone);
    if (!(await fs.exists(dir))) return;
    const killFile = join(dir, 'cgroup.kill');
    if (await fs.exists(killFile)) {
      await fs.write(killFile, '1');
      if (await pollUntil(async () => (await subtreeProcs(fs, dir)).length === 0, timings.removeTimeoutMs, timings.pollMs)) return;
    }
    // Before 5.14 (no cgroup.kill), or if cgroup.kill left survivors: freeze, kill, thaw, repeat.
    const freezeFile = join(dir, 'cgroup.freeze');
    const canFreeze = await fs.exists(freezeFile);
    await killAll(fs, {
      dirs: [dir],
      ...(canFreeze ? { freeze: () => fs.write(freezeFile, '1'), thaw: () => fs.write(freezeFile, '0') } : {}),
      signal: this.deps.signal,
      timeoutMs: timings.removeTimeoutMs,
      pollMs: timings.pollMs,
      name: this.name(project, zone),
    });
  }

  async remove(project: string, zone: string): Promise<void> {
    this.fresh.take(this.name(project, zone));
    await this.kill(project, zone);
    await removeTree(this.deps.fs, this.dir(project, zone), this.deps.timings.removeTimeoutMs, this.deps.timings.pollMs);
  }

  async removeProject(project: string): Promise<void> {
    this.fresh.take(this.name(project, null));
    for (const zone of await this.list(project)) await this.remove(project, zone);
    const { fs, signal, timings } = this.deps;
    // the supervisors' cgroup before the project's: a down killed in between leaves the
    // project's, which projects() lists, and the next down finishes the job
    await removeSupervisors(fs, signal, join(this.root, TOP, supervisorsName(project)), timings.removeTimeoutMs, timings.pollMs);
    await removeTree(fs, this.dir(project), timings.removeTimeoutMs, timings.pollMs);
    await removeTopIfEmpty(fs, join(this.root, TOP));
  }

  async list(project: string): Promise<string[]> {
    const dir = this.dir(project);
    return (await this.deps.fs.exists(dir)) ? this.deps.fs.subdirs(dir) : [];
  }

  async projects(): Promise<string[]> {
    const dir = join(this.root, TOP);
    return (await this.deps.fs.exists(dir)) ? (await this.deps.fs.subdirs(dir)).filter(isProjectEntry) : [];
  }
}
