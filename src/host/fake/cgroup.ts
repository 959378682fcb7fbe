// An in-memory CgroupDriver for reconciler tests: keeps the limits it was given, so that
// read() returns them, records every call, and can be made to fail on a given cgroup.

import { unlimited } from '../../model/limits.js';
import type { Limits } from '../../model/types.js';
import type { ApplyReport, CgroupDriver, Usage, ZoneName } from '../cgroup/driver.js';
import { HostError } from '../errors.js';

export type FakeCgroupCall = 'ensureProject' | 'create' | 'apply' | 'supervisors' | 'remove' | 'removeProject';

export class FakeCgroupDriver implements CgroupDriver {
  readonly version = 2 as const;
  readonly calls: string[] = [];
  /** project → (zone or '' for the project level) → limits. */
  readonly groups = new Map<string, Map<string, Limits>>();
  readonly members = new Map<string, number[]>();
  private readonly failures: { zone: ZoneName; call: FakeCgroupCall; code: string }[] = [];

  /** Make the next `call` on `zone` (null: the project level) fail with `code`. */
  failOn(zone: ZoneName, call: FakeCgroupCall, code = 'EIO'): void {
    this.failures.push({ zone, call, code });
  }

  private fail(project: string, zone: ZoneName, call: FakeCgroupCall): void {
    const i = this.failures.findIndex((f) => f.zone === zone && f.call === call);
    if (i < 0) return;
    const { code } = this.failures.splice(i, 1)[0]!;
    throw new HostError(`${call} cgroup zonectl/${project}${zone ? `/${zone}` : ''}: ${code}`, { code });
  }

  private key(project: string, zone: ZoneName): string {
    return zone ?? '';
  }

  private report(project: string, zone: ZoneName, limits: Limits): ApplyReport {
    return {
      cgroup: `zonectl/${project}${zone ? `/${zone}` : ''}`,
      outcomes: Object.keys(limits).map((limit) => ({ limit, status: 'applied' as const, file: `${limit}`, value: JSON.stringify(limits[limit as keyof Limits]) })),
    };
  }

  private need(project: string, zone: ZoneName): Map<string, Limits> {
    const g = this.groups.get(project);
    if (!g || !g.has(this.key(project, zone))) throw new HostError(`cgroup zonectl/${project}${zone ? `/${zone}` : ''} does not exist`, { code: 'ENOENT' });
    return g;
  }

  async ensureProject(project: string, limits: Limits): Promise<ApplyReport> {
    this.calls.push(`cgroup.ensureProject ${project}`);
    this.fail(project, null, 'ensureProject');
    const g = this.groups.get(project) ?? new Map<string, Limits>();
    g.set('', structuredClone(limits));
    this.groups.set(project, g);
    return this.report(project, null, limits);
  }

  async create(project: string, zone: string): Promise<string[]> {
    this.calls.push(`cgroup.create ${project}/${zone}`);
    this.fail(project, zone, 'create');
    const g = this.need(project, null);
    if (!g.has(zone)) g.set(zone, unlimited());
    return [`/fake/cgroup/zonectl/${project}/${zone}/cgroup.procs`];
  }

  async apply(project: string, zone: ZoneName, limits: Limits): Promise<ApplyReport> {
    this.calls.push(`cgroup.apply ${project}/${zone ?? ''}`);
    this.fail(project, zone, 'apply');
    this.need(project, zone).set(this.key(project, zone), structuredClone(limits));
    return this.report(project, zone, limits);
  }

  async read(project: string, zone: ZoneName): Promise<Limits> {
    return structuredClone(this.need(project, zone).get(this.key(project, zone))!);
  }

  canonical(limits: Limits): Limits {
    return limits;
  }

  async usage(project: string, zone: ZoneName): Promise<Usage> {
    const limits = this.need(project, zone).get(this.key(project, zone))!;
    return {
      cpu: { usage_ns: 0, user_ns: 0, system_ns: 0, periods: 0, throttled_periods: 0, throttled_ns: 0 },
      memory: { current: 1 << 20, peak: 1 << 20, limit: limits.memory, oom_kills: 0 },
      pids: { current: (this.members.get(`${project}/${zone}`) ?? []).length, limit: limits.pids },
      io: { read_bytes: 0, write_bytes: 0, read_ops: 0, write_ops: 0 },
      unavailable: [],
    };
  }

  async memoryCurrent(project: string, zone: ZoneName): Promise<number | null> {
    return (await this.usage(project, zone)).memory.current;
  }

  async addProcess(project: string, zone: string, pid: number): Promise<void> {
    this.need(project, zone);
    this.members.set(`${project}/${zone}`, [...(this.members.get(`${project}/${zone}`) ?? []), pid]);
  }

  async procs(project: string, zone: string): Promise<number[]> {
    return [...(this.members.get(`${project}/${zone}`) ?? [])].sort((a, b) => a - b);
  }

  async kill(project: string, zone: string): Promise<void> {
    this.calls.push(`cgroup.kill ${project}/${zone}`);
    this.members.delete(`${project}/${zone}`);
  }

  async remove(project: string, zone: string): Promise<void> {
    this.calls.push(`cgroup.remove ${project}/${zone}`);
    this.fail(project, zone, 'remove');
    this.members.delete(`${project}/${zone}`);
    this.groups.get(project)?.delete(zone);
  }

  async supervisors(project: string): Promise<string[]> {
    this.calls.push(`cgroup.supervisors ${project}`);
    this.fail(project, null, 'supervisors');
    return [`/fake/cgroup/zonectl/${project}.supervisors/cgroup.procs`];
  }

  async removeProject(project: string): Promise<void> {
    this.calls.push(`cgroup.removeProject ${project}`);
    this.fail(project, null, 'removeProject');
    this.groups.delete(project);
  }

  async list(project: string): Promise<string[]> {
    return [...(this.groups.get(project)?.keys() ?? [])].filter((z) => z !== '').sort();
  }

  async projects(): Promise<string[]> {
    return [...this.groups.keys()].sort();
  }
}
