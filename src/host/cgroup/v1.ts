// cgroup v1 (legacy and hybrid hosts) driver: one directory per hierarchy.
//
// Files: cpu.cfs_period_us/cfs_quota_us, cpu.shares (weight conversion: weight.ts), cpuset.cpus
// (cpus and mems copied from the parent on create, as v1 requires before a task may join),
// memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory + swap), memory.soft_limit_in_bytes,
// pids.max, blkio.bfq.weight (or CFQ's blkio.weight), blkio.throttle.*_device; freezer.state
// to stop a zone before killing it.

import { dirname, join } from 'node:path';
import type { IoDeviceLimits, Limits } from '../../model/types.js';
import { CPU_PERIOD_US, formatCpuset } from '../../model/units.js';
import { HostError } from '../errors.js';
import type { DriverDeps } from './deps.js';
import { isProjectEntry, TOP } from './deps.js';
import type { V1Controller } from './detect.js';
import type { ApplyReport, CgroupDriver, Usage, ZoneName } from './driver.js';
import { formatMax, formatV1Limit, parseCount, parseCpuList, parseDeviceLines, parseFlatKeyed, parseMax, parseV1Limit } from './format.js';
import { cappedDevices, Fresh, neutralLimits, pageFloor, sameCpus } from './limits.js';
import { absentReason, ControlFiles, Outcomes, readIfPresent, tryWrite, writeChecked } from './outcomes.js';
import { killAll, removeSupervisors, removeTopIfEmpty, removeTree, subtreeProcs } from './removal.js';
import { pollUntil } from './wait.js';
import { bfqWeightOfIoWeight, cfqWeightOfIoWeight, ioWeightOfCfqWeight, sharesOfWeight, weightOfShares } from './weight.js';

const THROTTLE = [['read_bps', 'blkio.throttle.read_bps_device'], ['write_bps', 'blkio.throttle.write_bps_device'], ['read_iops', 'blkio.throttle.read_iops_device'], ['write_iops', 'blkio.throttle.write_iops_device']] as const;

/** The files read() reads, by controller. */
const READ_FILES: readonly (readonly [V1Controller, string])[] = [
  ['cpu', 'cpu.cfs_quota_us'],
  ['cpu', 'cpu.cfs_period_us'],
  ['cpu', 'cpu.shares'],
  ['cpuset', 'cpuset.cpus'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.memsw.limit_in_bytes'],
  ['memory', 'memory.soft_limit_in_bytes'],
  ['pids', 'pids.max'],
  ['blkio', 'blkio.bfq.weight'],
  ['blkio', 'blkio.weight'],
  ...THROTTLE.map(([, file]) => ['blkio', file] as const),
];

/** Unlimited compares above everything. */
function atLeast(a: number | null, b: number | null): boolean {
  return a === null || (b !== null && a >= b);
}

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  /** Set once a cgroup shows CFQ's blkio.weight and no blkio.bfq.weight (kernels before 5.0). */
  private cfq = false;
  /** Cgroups this driver made in every hierarchy and has not applied limits to yet (limits.ts: Fresh). */
  private readonly fresh = new Fresh();
  /** cpuset directories of zonectl's own whose cgroup.clone_children is 1 (this run read or set it). */
  private readonly cloning = new Set<string>();
  /** By project: its cgroup where systemd tracks units, made (once a run) by projectServices(). */
  private readonly madeServices = new Map<string, Promise<string[]>>();
  private readonly files: ControlFiles;
  /** Each controller's hierarchy once (co-mounted controllers share one), sorted. */
  private readonly hierarchies: readonly string[];

  constructor(
    /** Mount point of each controller's hierarchy. */
    private readonly mounts: Partial<Record<V1Controller, string>>,
    private readonly deps: DriverDeps,
    /**
     * The hierarchy with no controller where systemd tracks its units (serviceHierarchies()), if
     * any: it stops a unit by killing what is left in the unit's cgroup there. The project's
     * zones and their supervisors live in zonectl/PROJECT there (supervisors()), so that they
     * are not in the unit that ran zonectl.
     */
    private readonly services: readonly string[] = [],
  ) {
    this.files = new ControlFiles(deps.fs);
    this.hierarchies = [...new Set(Object.values(mounts))].sort();
  }

  /** Plain concatenation: project and zone names are validated single path components. */
  private rel(project: string, zone: ZoneName): string {
    return zone === null ? `${TOP}/${project}` : `${TOP}/${project}/${zone}`;
  }

  private name(project: string, zone: ZoneName): string {
    return `${TOP}/${project}${zone === null ? '' : `/${zone}`}`;
  }

  /** The cgroup's directory in one controller's hierarchy, or null if that controller is not mounted. */
  private dir(c: V1Controller, project: string, zone: ZoneName): string | null {
    const mount = this.mounts[c];
    return mount === undefined ? null : `${mount}/${this.rel(project, zone)}`;
  }

  private async requireCgroup(project: string, zone: ZoneName): Promise<void> {
    for (const h of this.hierarchies) if (await this.deps.fs.exists(`${h}/${this.rel(project, zone)}`)) return;
    throw new HostError(`cgroup ${this.name(project, zone)} does not exist in any hierarchy (${this.hierarchies.join(', ')})`, { code: 'ENOENT' });
  }

  /** v1 cpusets start empty, and no task may join an empty one: copy the parent's (`made`: just now, so empty). */
  private async inheritCpuset(dir: string, made: boolean): Promise<void> {
    const { fs } = this.deps;
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (!made && (await fs.read(join(dir, f))).trim() !== '') continue;
      await fs.write(join(dir, f), (await fs.read(join(dir, '..', f))).trim());
    }
  }

  /**
   * Sets cgroup.clone_children of `dir` (zonectl's own level: zonectl/ or a project) when it is
   * not (looked at once a run). Its new children then start with its cpus and mems, copied by
   * the kernel at mkdir, and inherit the flag: no copy of ours, whose write of cpuset.cpus the
   * kernel checks against every sibling (O(zones) a zone).
   */
  private async ensureCloning(dir: string): Promise<void> {
    if (this.cloning.has(dir)) return;
    const file = `${dir}/cgroup.clone_children`;
    if ((await this.deps.fs.read(file)).trim() !== '1') await this.deps.fs.write(file, '1');
    this.cloning.add(dir);
  }

  /** mkdir `rel` in every hierarchy (parents first), filling new cpusets. */
  private async makeLevels(levels: string[]): Promise<void> {
    const old = new Set<string>();
    for (const h of this.hierarchies) {
      for (const level of levels) {
        const dir = join(h, level);
        // below zonectl/ the kernel fills a new cpuset (the hierarchy's root is not ours to set)
        const cloned = h === this.mounts.cpuset && level !== TOP;
        if (cloned) await this.ensureCloning(dirname(dir));
        const made = await this.deps.fs.mkdir(dir);
        if (!made) old.add(level);
        if (made && cloned) this.cloning.add(dir); // the flag came with it
        if (h === this.mounts.cpuset && !(made && cloned)) await this.inheritCpuset(dir, made);
      }
    }
    for (const level of levels) if (!old.has(level) && level !== TOP) this.fresh.made(level);
  }

  async ensureProject(project: string, limits: Limits): Promise<ApplyReport> {
    await this.makeLevels([TOP, join(TOP, project)]);
    return this.apply(project, null, limits);
  }

  async create(project: string, zone: string): Promise<string[]> {
    await this.requireCgroup(project, null);
    const services = this.projectServices(project);
    services.catch(() => {}); // awaited below, after the zone's own levels
    try {
      // the project's level is there in every hierarchy (ensureProject): only the zone's is new
      await this.makeLevels([join(TOP, project, zone)]);
    } catch (err) {
      if (!(err instanceof HostError && err.code === 'ENOENT')) throw err;
      // a hierarchy lacks it, or zonectl's own level too (an up killed inside ensureProject)
      await this.makeLevels([TOP, join(TOP, project), join(TOP, project, zone)]);
    }
    return [...this.leaves(project, zone), ...(await services)];
  }

  /**
   * zonectl/PROJECT in the hierarchy where systemd tracks units, home to the project's
   * supervisors and its zones alike (create()): that hierarchy has no controller, so a cgroup
   * there limits nothing, and no level per zone is needed (one cost ~0.3 ms a zone, measured
   * with 100 zones). Not in the controllers' hierarchies: a cgroup there in each, and a move
   * through each, cost 2–4 ms of a cold up on a hybrid host. Not in a hybrid host's name=systemd
   * as well, a copy systemd keeps for older tools: supervisors there too cost 1.6–3.4 ms of a
   * cold up.
   */
  async supervisors(project: string): Promise<string[]> {
    return this.projectServices(project);
  }

  /**
   * The cgroup.procs files of the project's cgroup where systemd tracks units, made once a run
   * (zonectl/ too: an up killed before them, and the next finds the project in the controllers'
   * hierarchies and makes no ensureProject).
   */
  private projectServices(project: string): Promise<string[]> {
    let made = this.madeServices.get(project);
    if (made === undefined) {
      const dirs = this.services.map((h) => join(h, this.rel(project, null)));
      made = (async () => {
        for (const dir of dirs) for (const level of [dirname(dir), dir]) await this.deps.fs.mkdir(level);
        return dirs.map((dir) => join(dir, 'cgroup.procs'));
      })();
      this.madeServices.set(project, made);
      made.catch(() => this.madeServices.delete(project)); // a later call tries again
    }
    return made;
  }

  async apply(project: string, zone: ZoneName, limits: Limits): Promise<ApplyReport> {
    const { fs } = this.deps;
    const out = new Outcomes();
    const fresh = this.fresh.take(this.rel(project, zone));
    if (!fresh) await this.requireCgroup(project, zone);
    /** A one-file limit: absent file → applied if neutral, else infeasible naming the controller. */
    const plain = async (limit: string, c: V1Controller, file: string, value: string, neutral: boolean, holds: (t: string) => boolean): Promise<void> => {
      const dir = this.dir(c, project, zone);
      const path = dir === null ? `${c}/${this.rel(project, zone)}/${file}` : join(dir, file);
      if (neutral && fresh) {
        out.applied(limit, path, value);
        return;
      }
      if (dir === null || !(await this.files.has(path))) {
        if (neutral) out.applied(limit, path, value);
        else out.infeasible(limit, path, value, dir === null ? `controller ${c} is not mounted (no cgroup v1 hierarchy for it)` : absentReason(path, c));
        return;
      }
      const why = await writeChecked(fs, path, value, holds, fresh);
      if (why === null) out.applied(limit, path, value);
      else out.infeasible(limit, path, value, why);
    };

    // cpu: the period first, then the quota (-1 clears)
    if (limits.cpus !== null) {
      const period = String(limits.cpus.period_us);
      const cpuDir = this.dir('cpu', project, zone);
      const periodFile = cpuDir === null ? null : join(cpuDir, 'cpu.cfs_period_us');
      // a fresh cgroup has the kernel's default period
      const write = periodFile !== null && !(fresh && limits.cpus.period_us === CPU_PERIOD_US) && (await this.files.has(periodFile));
      const why = write ? await writeChecked(fs, periodFile, period, (t) => t === period) : null;
      if (why !== null && periodFile !== null) out.infeasible('cpus', periodFile, period, why);
      else await plain('cpus', 'cpu', 'cpu.cfs_quota_us', String(limits.cpus.quota_us), false, (t) => t === String(limits.cpus?.quota_us));
    } else {
      await plain('cpus', 'cpu', 'cpu.cfs_quota_us', '-1', true, (t) => t === '-1');
    }
    const shares = String(sharesOfWeight(limits.cpu_weight));
    await plain('cpu_weight', 'cpu', 'cpu.shares', shares, limits.cpu_weight === 100, (t) => t === shares);

    await this.applyCpuset(out, project, zone, limits.cpuset, fresh);
    await this.applyMemory(out, project, zone, limits, fresh);
    const soft = formatV1Limit(limits.memory_reservation);
    await plain('memory_reservation', 'memory', 'memory.soft_limit_in_bytes', soft, limits.memory_reservation === null, (t) => parseV1Limit(t, 'soft') === pageFloor(limits.memory_reservation, this.deps.pageSize));
    await plain('pids', 'pids', 'pids.max', formatMax(limits.pids), limits.pids === null, (t) => t === formatMax(limits.pids));

    await this.applyIoWeight(out, project, zone, limits.io.weight, fresh);
    if (!fresh || Object.keys(cappedDevices(limits.io.devices)).length > 0) await this.applyThrottle(out, project, zone, limits.io.devices);
    return { cgroup: this.name(project, zone), outcomes: out.list };
  }

  /**
   * A v1 parent may not drop a CPU a child uses (EBUSY), and a child does not follow its
   * parent: widen to old ∪ new, move the children that inherited the old set, then narrow.
   */
  private async applyCpuset(out: Outcomes, project: string, zone: ZoneName, cpuset: number[] | null, fresh: boolean): Promise<void> {
    const { fs } = this.deps;
    const dir = this.dir('cpuset', project, zone);
    const file = dir === null ? `cpuset/${this.rel(project, zone)}/cpuset.cpus` : join(dir, 'cpuset.cpus');
    if (fresh && cpuset === null) {
      out.applied('cpuset', file, ''); // its parent's CPUs: makeLevels copied them
      return;
    }
    if (dir === null || !(await this.files.has(file))) {
      if (cpuset === null) out.applied('cpuset', file, '');
      else out.infeasible('cpuset', file, formatCpuset(cpuset), dir === null ? 'controller cpuset is not mounted (no cgroup v1 hierarchy for it)' : absentReason(file, 'cpuset'));
      return;
    }
    const parentFile = join(dir, '..', 'cpuset.cpus');
    const parentCpus = parseCpuList(await fs.read(parentFile), parentFile);
    const target = cpuset ?? parentCpus;
    const value = formatCpuset(target);
    const shown = cpuset === null ? '' : value; // null: whatever the parent has, as v2 reports it
    const outside = target.filter((c) => !parentCpus.includes(c));
    if (outside.length > 0) {
      out.infeasible('cpuset', file, value, `CPUs ${formatCpuset(outside)} are not in ${parentFile} (${formatCpuset(parentCpus)})`);
      return;
    }
    const old = parseCpuList(await fs.read(file), file);
    if (sameCpus(old, target)) {
      out.applied('cpuset', file, shown);
      return;
    }
    const followers: string[] = [];
    for (const child of await fs.subdirs(dir)) {
      const childFile = join(dir, child, 'cpuset.cpus');
      const cpus = parseCpuList(await fs.read(childFile), childFile);
      if (sameCpus(cpus, old)) followers.push(childFile);
      else if (cpus.some((c) => !target.includes(c))) {
        out.infeasible('cpuset', file, value, `${childFile} (${formatCpuset(cpus)}) uses CPUs outside ${value}: change that zone's cpuset first`);
        return;
      }
    }
    const union = [...new Set([...old, ...target])].sort((a, b) => a - b);
    const steps: [string, string][] = [];
    if (!sameCpus(union, old)) steps.push([file, formatCpuset(union)]);
    for (const f of followers) steps.push([f, value]);
    steps.push([file, value]);
    for (const [f, v] of steps) {
      const why = await writeChecked(fs, f, v, (t) => sameCpus(parseCpuList(t, f), parseCpuList(v, f)));
      if (why !== null) {
        out.infeasible('cpuset', file, value, why);
        return;
      }
    }
    out.applied('cpuset', file, shown);
  }

  /**
   * limit_in_bytes must stay ≤ memsw.limit_in_bytes at every step: raise memsw first when it
   * grows past the current limit, else lower the limit first. A limit below usage makes the
   * kernel reclaim and answer EBUSY if it cannot: the new value is staged in
   * soft_limit_in_bytes, the write retried for a bounded time, then deferred.
   */
  private async applyMemory(out: Outcomes, project: string, zone: ZoneName, limits: Limits, fresh: boolean): Promise<void> {
    const { fs, pageSize } = this.deps;
    const dir = this.dir('memory', project, zone);
    const limitFile = dir === null ? `memory/${this.rel(project, zone)}/memory.limit_in_bytes` : join(dir, 'memory.limit_in_bytes');
    const memswFile = dir === null ? `memory/${this.rel(project, zone)}/memory.memsw.limit_in_bytes` : join(dir, 'memory.memsw.limit_in_bytes');
    const memory = limits.memory;
    const memsw = memory === null || limits.memory_swap === null ? null : memory + limits.memory_swap;
    const limitValue = formatV1Limit(memory);
    const memswValue = formatV1Limit(memsw);
    const swapNeutral = memory === null || limits.memory_swap === null || (limits.memory_swap === 0 && !this.deps.hostHasSwap);

    if (dir === null || !(await this.files.has(limitFile))) {
      const reason = dir === null ? 'controller memory is not mounted (no cgroup v1 hierarchy for it)' : absentReason(limitFile, 'memory');
      if (memory === null) out.applied('memory', limitFile, limitValue);
      else out.infeasible('memory', limitFile, limitValue, reason);
      if (swapNeutral) out.applied('memory_swap', memswFile, memswValue);
      else out.infeasible('memory_swap', memswFile, memswValue, reason);
      return;
    }
    if (fresh && memory === null) {
      // in the order below: memsw first when it grows (to unlimited), then the limit
      out.applied('memory_swap', memswFile, memswValue);
      out.applied('memory', limitFile, limitValue);
      return;
    }
    const hasMemsw = await this.files.has(memswFile);
    const currentLimit = fresh ? null : parseV1Limit(await fs.read(limitFile), limitFile);

    const writeMemsw = async (): Promise<void> => {
      if (!hasMemsw) {
        if (swapNeutral) out.applied('memory_swap', memswFile, memswValue);
        else out.infeasible('memory_swap', memswFile, memswValue, `swap accounting is not available here: ${memswFile} is absent (boot with swapaccount=1)`);
        return;
      }
      if (fresh && memsw === null) {
        out.applied('memory_swap', memswFile, memswValue); // unlimited, as made
        return;
      }
      const why = await writeChecked(fs, memswFile, memswValue, (t) => parseV1Limit(t, memswFile) === pageFloor(memsw, pageSize), fresh);
      if (why === null) out.applied('memory_swap', memswFile, memswValue);
      else out.infeasible('memory_swap', memswFile, memswValue, why);
    };

    if (atLeast(memsw, currentLimit)) {
      await writeMemsw();
      await this.writeMemoryLimit(out, dir, memory, limits.memory_reservation, fresh);
    } else {
      const done = await this.writeMemoryLimit(out, dir, memory, limits.memory_reservation, fresh);
      if (done) await writeMemsw();
      else out.deferred('memory_swap', memswFile, memswValue, `waits for ${limitFile}: memory + swap cannot be set below the memory limit still in force`);
    }
  }

  /** Writes limit_in_bytes (`fresh`: unlimited, as made, and `memory` is not); returns whether it now holds the value. */
  private async writeMemoryLimit(out: Outcomes, dir: string, memory: number | null, reservation: number | null, fresh: boolean): Promise<boolean> {
    const { fs, timings, pageSize } = this.deps;
    const file = join(dir, 'memory.limit_in_bytes');
    const value = formatV1Limit(memory);
    const expected = pageFloor(memory, pageSize);
    const holds = async (): Promise<boolean> => parseV1Limit(await fs.read(file), file) === expected;
    if (!fresh && (await holds())) {
      out.applied('memory', file, value);
      return true;
    }
    let failed = await tryWrite(fs, file, value, fresh);
    if (failed?.code === 'EBUSY' && memory !== null) {
      const softFile = join(dir, 'memory.soft_limit_in_bytes');
      const staged = await tryWrite(fs, softFile, value);
      const fits = await pollUntil(async () => (failed = await tryWrite(fs, file, value)) === null, timings.reclaimTimeoutMs, timings.pollMs);
      if (staged === null) {
        const restored = await tryWrite(fs, softFile, formatV1Limit(reservation));
        if (restored !== null) throw restored;
      }
      if (!fits) {
        const usageFile = join(dir, 'memory.usage_in_bytes');
        const usage = parseCount(await fs.read(usageFile), usageFile);
        out.deferred('memory', file, value, `${failed?.message ?? 'EBUSY'}: usage ${usage} is above ${memory} after ${timings.reclaimTimeoutMs} ms of reclaim`);
        return false;
      }
    }
    if (failed !== null) {
      out.infeasible('memory', file, value, failed.message);
      return false;
    }
    if (!(await holds())) {
      out.infeasible('memory', file, value, `wrote ${value} to ${file} but it reads ${(await fs.read(file)).trim()}`);
      return false;
    }
    out.applied('memory', file, value);
    return true;
  }

  /** `fresh`: the cgroup has the scheduler's default weight, which io weight 100 maps to. */
  private async applyIoWeight(out: Outcomes, project: string, zone: ZoneName, weight: number, fresh: boolean): Promise<void> {
    const { fs } = this.deps;
    const dir = this.dir('blkio', project, zone);
    const bfq = dir === null ? null : join(dir, 'blkio.bfq.weight');
    const cfq = dir === null ? null : join(dir, 'blkio.weight');
    const neutral = fresh && weight === 100;
    if (bfq !== null && (await this.files.has(bfq))) {
      const v = String(bfqWeightOfIoWeight(weight));
      const why = neutral ? null : await writeChecked(fs, bfq, v, (t) => readWeight(t) === v, fresh);
      if (why === null) out.applied('io.weight', bfq, v);
      else out.infeasible('io.weight', bfq, v, why);
    } else if (cfq !== null && (await this.files.has(cfq))) {
      this.cfq = true;
      const v = String(cfqWeightOfIoWeight(weight));
      const why = neutral ? null : await writeChecked(fs, cfq, v, (t) => readWeight(t) === v, fresh);
      if (why === null) out.applied('io.weight', cfq, v);
      else out.infeasible('io.weight', cfq, v, why);
    } else {
      const file = bfq ?? `blkio/${this.rel(project, zone)}/blkio.bfq.weight`;
      if (weight === 100) out.applied('io.weight', file, String(weight));
      else out.infeasible('io.weight', file, String(weight), dir === null ? 'controller blkio is not mounted (no cgroup v1 hierarchy for it)' : `controller blkio has no weight here: neither ${bfq} nor ${cfq} exists`);
    }
  }

  private async applyThrottle(out: Outcomes, project: string, zone: ZoneName, devices: Record<string, IoDeviceLimits>): Promise<void> {
    const { fs } = this.deps;
    const dir = this.dir('blkio', project, zone);
    const wanted = cappedDevices(devices);
    if (dir === null || !(await this.files.has(join(dir, THROTTLE[0][1])))) {
      const file = dir === null ? `blkio/${this.rel(project, zone)}/${THROTTLE[0][1]}` : join(dir, THROTTLE[0][1]);
      for (const path of Object.keys(wanted)) out.infeasible(`io.devices.${path}`, file, '', dir === null ? 'controller blkio is not mounted (no cgroup v1 hierarchy for it)' : absentReason(file, 'blkio'));
      return;
    }
    const targets = new Map<string, { path: string; limits: IoDeviceLimits }>();
    for (const [path, limits] of Object.entries(wanted)) {
      try {
        targets.set(await this.deps.devices.toMajMin(path), { path, limits });
      } catch (err) {
        if (!(err instanceof HostError)) throw err;
        out.infeasible(`io.devices.${path}`, join(dir, THROTTLE[0][1]), '', err.message);
      }
    }
    const unlimited: IoDeviceLimits = { read_bps: null, write_bps: null, read_iops: null, write_iops: null };
    for (const [, file] of THROTTLE) {
      for (const majMin of parseDeviceLines(await fs.read(join(dir, file))).keys()) {
        if (!targets.has(majMin)) targets.set(majMin, { path: await this.deps.devices.toPath(majMin), limits: unlimited });
      }
    }
    for (const [majMin, { path, limits }] of targets) {
      let failure: { file: string; value: string; why: string } | null = null;
      for (const [key, file] of THROTTLE) {
        // 0 removes the device's line (no limit).
        const value = `${majMin} ${limits[key] ?? 0}`;
        const why = await writeChecked(fs, join(dir, file), value, (t) => (parseDeviceLines(t).get(majMin) ?? null) === limits[key]);
        if (why !== null) {
          failure = { file: join(dir, file), value, why };
          break;
        }
      }
      if (failure === null) out.applied(`io.devices.${path}`, join(dir, 'blkio.throttle.*_device'), `${majMin} ${THROTTLE.map(([k]) => `${k}=${formatMax(limits[k])}`).join(' ')}`);
      else out.infeasible(`io.devices.${path}`, failure.file, failure.value, failure.why);
    }
  }

  async read(project: string, zone: ZoneName): Promise<Limits> {
    await this.requireCgroup(project, zone);
    const { fs } = this.deps;
    const limits = neutralLimits();
    // every file below, and the parent's cpuset, in one read off the main thread (the paths by
    // concatenation: join() would normalise the same prefix again for each)
    const cpusetDir = this.dir('cpuset', project, zone);
    const parentCpus = cpusetDir === null ? null : `${dirname(cpusetDir)}/cpuset.cpus`;
    const paths: string[] = [];
    for (const [c, file] of READ_FILES) {
      const dir = this.dir(c, project, zone);
      if (dir !== null) paths.push(`${dir}/${file}`);
    }
    if (parentCpus !== null) paths.push(parentCpus);
    const texts = await fs.readAll(paths);
    const got = new Map(paths.map((p, i) => [p, texts[i] ?? null]));
    const text = (c: V1Controller, file: string): [string, string] | null => {
      const dir = this.dir(c, project, zone);
      const path = `${dir}/${file}`;
      const t = dir === null ? null : (got.get(path) ?? null);
      return t === null ? null : [t, path];
    };

    const quota = text('cpu', 'cpu.cfs_quota_us');
    const period = text('cpu', 'cpu.cfs_period_us');
    if (quota !== null && period !== null) {
      const q = parseCount(...quota);
      limits.cpus = q < 0 ? null : { quota_us: q, period_us: parseCount(...period) };
    }
    const shares = text('cpu', 'cpu.shares');
    if (shares !== null) limits.cpu_weight = weightOfShares(parseCount(...shares));

    const cpus = text('cpuset', 'cpuset.cpus');
    if (cpus !== null && parentCpus !== null) {
      const own = parseCpuList(...cpus);
      const parent = got.get(parentCpus) ?? (await fs.read(parentCpus)); // absent: read() says so
      // A cpuset equal to the parent's is "all the CPUs there are" (null).
      limits.cpuset = sameCpus(own, parseCpuList(parent, parentCpus)) ? null : own;
    }

    const memory = text('memory', 'memory.limit_in_bytes');
    if (memory !== null) limits.memory = parseV1Limit(...memory);
    const memsw = text('memory', 'memory.memsw.limit_in_bytes');
    if (memsw === null) limits.memory_swap = this.deps.hostHasSwap ? null : 0;
    else {
      const total = parseV1Limit(...memsw);
      limits.memory_swap = limits.memory === null ? 0 : total === null ? null : total - limits.memory;
    }
    const soft = text('memory', 'memory.soft_limit_in_bytes');
    if (soft !== null) limits.memory_reservation = parseV1Limit(...soft);

    const pids = text('pids', 'pids.max');
    if (pids !== null) limits.pids = parseMax(...pids);

    const bfq = text('blkio', 'blkio.bfq.weight');
    const cfq = bfq === null ? text('blkio', 'blkio.weight') : null;
    if (bfq !== null) limits.io.weight = Number(readWeight(bfq[0]));
    else if (cfq !== null) {
      this.cfq = true;
      limits.io.weight = ioWeightOfCfqWeight(Number(readWeight(cfq[0])));
    }
    const devices: Record<string, IoDeviceLimits> = {};
    for (const [key, file] of THROTTLE) {
      const t = text('blkio', file);
      if (t === null) continue;
      for (const [majMin, n] of parseDeviceLines(t[0])) {
        const path = await this.deps.devices.toPath(majMin);
        devices[path] ??= { read_bps: null, write_bps: null, read_iops: null, write_iops: null };
        devices[path][key] = n;
      }
    }
    limits.io.devices = cappedDevices(devices);
    return limits;
  }

  canonical(limits: Limits): Limits {
    const { pageSize } = this.deps;
    const memory = pageFloor(limits.memory, pageSize);
    let swap: number | null;
    if (!this.deps.swapAccounting) swap = this.deps.hostHasSwap ? null : 0;
    else if (limits.memory === null) swap = 0;
    else swap = limits.memory_swap === null ? null : pageFloor(limits.memory + limits.memory_swap, pageSize)! - memory!;
    return {
      ...limits,
      cpu_weight: weightOfShares(sharesOfWeight(limits.cpu_weight)),
      cpuset: limits.cpuset === null || limits.cpuset.length === 0 ? null : [...limits.cpuset],
      memory,
      memory_swap: swap,
      memory_reservation: pageFloor(limits.memory_reservation, pageSize),
      io: {
        weight: this.cfq ? ioWeightOfCfqWeight(cfqWeightOfIoWeight(limits.io.weight)) : bfqWeightOfIoWeight(limits.io.weight),
        devices: cappedDevices(limits.io.devices),
      },
    };
  }

  async usage(project: string, zone: ZoneName): Promise<Usage> {
    await this.requireCgroup(project, zone);
    const { fs } = this.deps;
    const unavailable: string[] = [];
    const text = async (c: V1Controller, file: string): Promise<string> => {
      const dir = this.dir(c, project, zone);
      const path = dir === null ? `${c}/${this.rel(project, zone)}/${file}` : join(dir, file);
      const t = dir === null ? null : await readIfPresent(fs, path);
      if (t !== null) return t;
      unavailable.push(path);
      return '';
    };
    const num = (t: string): number => (t.trim() === '' ? 0 : Number(t.trim()));
    const cpuStat = parseFlatKeyed(await text('cpu', 'cpu.stat'));
    const oom = parseFlatKeyed(await text('memory', 'memory.oom_control'));
    const limit = (await text('memory', 'memory.limit_in_bytes')).trim();
    const pidsMax = (await text('pids', 'pids.max')).trim();
    const io = { read_bytes: 0, write_bytes: 0, read_ops: 0, write_ops: 0 };
    for (const [file, r, w] of [['blkio.throttle.io_service_bytes_recursive', 'read_bytes', 'write_bytes'], ['blkio.throttle.io_serviced_recursive', 'read_ops', 'write_ops']] as const) {
      for (const line of (await text('blkio', file)).split('\n')) {
        const [dev, op, n] = line.trim().split(/\s+/);
        if (dev === undefined || !dev.includes(':') || n === undefined) continue;
        if (op === 'Read') io[r] += Number(n);
        if (op === 'Write') io[w] += Number(n);
      }
    }
    const peak = (await text('memory', 'memory.max_usage_in_bytes')).trim();
    return {
      cpu: {
        usage_ns: num(await text('cpuacct', 'cpuacct.usage')),
        user_ns: num(await text('cpuacct', 'cpuacct.usage_user')),
        system_ns: num(await text('cpuacct', 'cpuacct.usage_sys')),
        periods: cpuStat.get('nr_periods') ?? 0,
        throttled_periods: cpuStat.get('nr_throttled') ?? 0,
        throttled_ns: cpuStat.get('throttled_time') ?? 0,
      },
      memory: {
        current: num(await text('memory', 'memory.usage_in_bytes')),
        peak: peak === '' ? null : Number(peak),
        limit: limit === '' ? null : parseV1Limit(limit, 'memory.limit_in_bytes'),
        oom_kills: oom.get('oom_kill') ?? 0,
      },
      pids: { current: num(await text('pids', 'pids.current')), limit: pidsMax === '' ? null : parseMax(pidsMax, 'pids.max') },
      io,
      unavailable,
    };
  }

  async memoryCurrent(project: string, zone: ZoneName): Promise<number | null> {
    const dir = this.dir('memory', project, zone);
    const file = dir === null ? null : join(dir, 'memory.usage_in_bytes');
    const text = file === null ? null : await readIfPresent(this.deps.fs, file);
    if (text !== null && file !== null) return parseCount(text, file);
    await this.requireCgroup(project, zone);
    return null;
  }

  /** The zone's cgroup.procs files in the controllers' hierarchies: made in each (makeLevels), so no need to look for them. */
  private leaves(project: string, zone: string): string[] {
    return this.hierarchies.map((h) => join(h, this.rel(project, zone), 'cgroup.procs'));
  }

  async addProcess(project: string, zone: string, pid: number): Promise<void> {
    await this.requireCgroup(project, zone);
    for (const file of [...this.leaves(project, zone), ...(await this.projectServices(project))]) await this.deps.fs.write(file, String(pid));
  }

  async procs(project: string, zone: string): Promise<number[]> {
    const all = new Set<number>();
    for (const h of this.hierarchies) for (const p of await subtreeProcs(this.deps.fs, join(h, this.rel(project, zone)))) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  async kill(project: string, zone: string): Promise<void> {
    const { fs, timings } = this.deps;
    const freezer = this.dir('freezer', project, zone);
    const state = freezer === null ? null : join(freezer, 'freezer.state');
    const canFreeze = state !== null && (await fs.exists(state));
    await killAll(fs, {
      dirs: this.hierarchies.map((h) => join(h, this.rel(project, zone))),
      ...(canFreeze && state !== null
        ? {
            freeze: async () => {
              await fs.write(state, 'FROZEN');
              // FREEZING until every task stops; a SIGKILL to a frozen task is delivered on thaw.
              await pollUntil(async () => (await fs.read(state)).trim() === 'FROZEN', timings.removeTimeoutMs, timings.pollMs);
            },
            thaw: () => fs.write(state, 'THAWED'),
          }
        : {}),
      signal: this.deps.signal,
      timeoutMs: timings.removeTimeoutMs,
      pollMs: timings.pollMs,
      name: this.name(project, zone),
    });
  }

  async remove(project: string, zone: string): Promise<void> {
    this.fresh.take(this.rel(project, zone));
    await this.kill(project, zone);
    for (const h of this.hierarchies) await removeTree(this.deps.fs, join(h, this.rel(project, zone)), this.deps.timings.removeTimeoutMs, this.deps.timings.pollMs);
  }

  async removeProject(project: string): Promise<void> {
    this.fresh.take(this.rel(project, null));
    for (const zone of await this.list(project)) await this.remove(project, zone);
    const { fs, signal, timings } = this.deps;
    // where systemd tracks units (the supervisors' too) before the controllers': a down killed
    // in between leaves the project's cgroups there, which projects() lists, and the next down
    // finishes the job
    this.madeServices.delete(project);
    for (const h of this.services) await removeSupervisors(fs, signal, join(h, this.rel(project, null)), timings.removeTimeoutMs, timings.pollMs);
    for (const h of this.hierarchies) await removeTree(fs, join(h, this.rel(project, null)), timings.removeTimeoutMs, timings.pollMs);
    for (const h of [...this.hierarchies, ...this.services]) await removeTopIfEmpty(fs, join(h, TOP));
    // what was looked at may be gone (zonectl/ with the last project): a later mkdir looks again
    this.cloning.clear();
  }

  /** The subdirectories of `rel` in any hierarchy (`services`: those too); read side by side. */
  private async union(rel: string, services = false): Promise<string[]> {
    const lists = await Promise.all(
      [...this.hierarchies, ...(services ? this.services : [])].map(async (h) => {
        const dir = join(h, rel);
        return (await this.deps.fs.exists(dir)) ? this.deps.fs.subdirs(dir) : [];
      }),
    );
    return [...new Set(lists.flat())].sort();
  }

  async list(project: string): Promise<string[]> {
    return this.union(this.rel(project, null));
  }

  async projects(): Promise<string[]> {
    // where systemd tracks units too: an up killed before the controllers' leaves its cgroup there
    return (await this.union(TOP, true)).filter(isProjectEntry);
  }
}

/** A weight file reads `100` (or `default 100` in BFQ's newer format). */
function readWeight(text: string): string {
  return /^(?:default\s+)?([0-9]+)/.exec(text.trim())?.[1] ?? text.trim();
}
