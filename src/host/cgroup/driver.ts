// The cgroup driver: one interface, a v2 and a v1 implementation behind it (v2.ts, v1.ts),
// chosen at run time by createCgroupDriver (index.ts).
//
// Hierarchy, in every hierarchy the driver uses: ROOT/zonectl/PROJECT/ZONE. The project
// level (`zone: null` below) is the global zone's cgroup: its limits cap all the project's
// zones together. On v2, the project's supervisors live beside it, in
// ROOT/zonectl/PROJECT.supervisors (supervisors()). Processes only ever live in leaves (the
// zones', the supervisors'), as cgroup v2's no-internal-processes rule requires. On v1 and
// hybrid hosts, where systemd tracks units in a hierarchy with no controller, the project's
// zones and supervisors share ROOT/zonectl/PROJECT there (v1.ts).

import type { Limits } from '../../model/types.js';

/** A zone's name, or null for the project level (the global zone's limits). */
export type ZoneName = string | null;

/** A limit's path in the model: `cpus`, `memory`, `io.weight`, `io.devices./dev/vda`. */
export type LimitPath = string;

export type LimitStatus = 'applied' | 'deferred' | 'infeasible';

export interface LimitOutcome {
  limit: LimitPath;
  status: LimitStatus;
  /** The control file written (or that would have been), absolute. */
  file: string;
  /** The value written (or that would have been), as the kernel file takes it. */
  value: string;
  /** Why it is deferred or infeasible, naming the file or controller and the kernel's code. */
  reason?: string;
}

export interface ApplyReport {
  /** `zonectl/PROJECT/ZONE` (or `zonectl/PROJECT`). */
  cgroup: string;
  /** One outcome per limit, in the order written. */
  outcomes: LimitOutcome[];
}

/** Live usage of one cgroup (counters since its creation). */
export interface Usage {
  cpu: {
    usage_ns: number;
    user_ns: number;
    system_ns: number;
    /** CFS bandwidth periods elapsed, and those in which the cgroup was throttled. */
    periods: number;
    throttled_periods: number;
    throttled_ns: number;
  };
  memory: {
    current: number;
    /** High-water mark; null where the kernel keeps none (v2 before 5.19). */
    peak: number | null;
    limit: number | null;
    /** Processes killed by the OOM killer inside this cgroup. */
    oom_kills: number;
  };
  pids: { current: number; limit: number | null };
  io: { read_bytes: number; write_bytes: number; read_ops: number; write_ops: number };
  /** Files that could not be read (controller absent); their counters read as 0. */
  unavailable: string[];
}

export interface CgroupDriver {
  readonly version: 1 | 2;

  /** Creates zonectl/PROJECT (idempotent) and applies the global zone's limits to it. */
  ensureProject(project: string, limits: Limits): Promise<ApplyReport>;
  /**
   * Creates zonectl/PROJECT/ZONE (idempotent); the project must exist. Returns the zone's
   * cgroup.procs file in every hierarchy it has (on v1 and hybrid hosts also the project's where
   * systemd tracks units): the zone helper's init and exec join each (cloned into a cgroup2 one,
   * through the `tasks` file beside a v1 one, moving themselves: native/helper/zone.h).
   */
  create(project: string, zone: string): Promise<string[]>;
  /**
   * Writes every limit in the order the kernel needs, reads each back, and reports it as
   * applied, deferred (a memory shrink still reclaiming) or infeasible (with the reason).
   * Throws only when the cgroup itself is missing or unusable.
   */
  apply(project: string, zone: ZoneName, limits: Limits): Promise<ApplyReport>;
  /** The limits as the kernel has them, in the model's units. */
  read(project: string, zone: ZoneName): Promise<Limits>;
  /**
   * `limits` as read() would return them once applied on this driver (page-rounded memory,
   * v1 shares↔weight rounding...): compare `canonical(desired)` with `read()` to plan.
   */
  canonical(limits: Limits): Limits;
  usage(project: string, zone: ZoneName): Promise<Usage>;
  /**
   * usage().memory.current alone, in one read (what a planner needs: observe calls it for
   * every zone): bytes in use, or null where the memory controller is absent. Throws like
   * usage() when the cgroup is missing.
   */
  memoryCurrent(project: string, zone: ZoneName): Promise<number | null>;

  /** Moves a process (all its threads) into the zone's cgroup in every hierarchy. */
  addProcess(project: string, zone: string, pid: number): Promise<void>;
  /** PIDs in the zone's cgroup (and below), sorted. */
  procs(project: string, zone: string): Promise<number[]>;
  /** SIGKILLs every process in the zone; returns when none is left (bounded, then throws). */
  kill(project: string, zone: string): Promise<void>;
  /** kill(), then removes the zone's cgroups bottom-up; EBUSY is retried with a bound. No-op if absent. */
  remove(project: string, zone: string): Promise<void>;
  /**
   * v2: creates zonectl/PROJECT.supervisors (idempotent) and returns its cgroup.procs file: the
   * zone helper clones each supervisor straight into it, so that they live there, not in the
   * cgroup of whoever ran zonectl (a service or a session that ends kills what is left in its
   * cgroup). Outside the project's cgroup: the global zone's limits cap the zones only. v1: the
   * project's cgroup in the hierarchy where systemd tracks units, which create() names too;
   * none where there is no such hierarchy.
   */
  supervisors(project: string): Promise<string[]>;
  /**
   * Removes every zone of the project, then its supervisors' cgroup (a supervisor still in it
   * is killed), then the project level. No-op if absent.
   */
  removeProject(project: string): Promise<void>;

  /** Zones of the project that have a cgroup, sorted. */
  list(project: string): Promise<string[]>;
  /** Projects that have a cgroup under zonectl/, sorted. */
  projects(): Promise<string[]>;
}

export interface CgroupDriverTimings {
  /** How long a memory shrink below usage may wait for reclaim before it is deferred. */
  reclaimTimeoutMs: number;
  /** How long kill and rmdir retry (EBUSY, processes still exiting) before failing. */
  removeTimeoutMs: number;
  /** Poll interval of both waits. */
  pollMs: number;
}

export const DEFAULT_TIMINGS: CgroupDriverTimings = { reclaimTimeoutMs: 2000, removeTimeoutMs: 5000, pollMs: 50 };
