// The ZoneDriver: turns one zone of the desired state into real processes, and back.
// Independent of cgroups: the caller (reconcile) passes the cgroup.procs files to join.

import type { RestartPolicy, Zone } from '../../model/types.js';

export interface ZoneStartOptions {
  /**
   * cgroup.procs files every process of the zone joins (from the cgroup driver); none by default.
   * A promise: start prepares what it can meanwhile (its run directory and the helper's spec)
   * and begins the zone once it resolves; when it rejects, start rejects with that reason and
   * starts nothing.
   */
  cgroupProcs?: readonly string[] | Promise<readonly string[]>;
  /**
   * cgroup.procs files of the project's supervisors' cgroup (the cgroup driver's supervisors()),
   * where the zone's supervisor is to live; by default it stays in zonectl's own cgroup. A
   * promise, as cgroupProcs.
   */
  supervisorProcs?: readonly string[] | Promise<readonly string[]>;
  /**
   * With `ready`, the zone is assembled at once (processes, namespaces, cgroups, root), but its
   * command runs only once the promise `ready()` returns resolves. start calls it once the
   * helper has the start, so that what the caller does for the zone (plumb its network, write
   * its limits) runs while the zone is assembled, not before the helper begins. When that
   * promise rejects, the start is called off, nothing of it stays, and start rejects with that
   * reason. A start that fails before the helper has it never calls it.
   */
  ready?: () => Promise<void>;
  /**
   * The caller's prepareNetwork of the zone, made alongside; the zone starts in that namespace
   * once it resolves, and start closes its descriptor once ready's promise (which may plumb it)
   * has settled. Without it, start makes one itself.
   */
  netns?: Promise<PreparedNetns>;
  /** Log rotation: the current file is rotated past maxBytes; maxFiles counts it too. */
  log?: { maxBytes: number; maxFiles: number };
}

/**
 * A new network namespace for a zone's start, held by this process (`fd`) until the start is
 * over; then the zone's supervisor holds it, by living in it. `path` names it until then
 * (/proc/PID/fd/N of this process: the helper opens it too).
 */
export interface PreparedNetns {
  path: string;
  fd: number;
}

export interface StartedZone {
  /** Host pid of the zone's pid 1 (its init). */
  pid: number;
  /** When the zone's command was exec'd. */
  startedAt: Date;
}

/**
 * `netns`: the path of the zone's network namespace, which its supervisor holds (it lives in
 * it); null when the supervisor is in the host's (never plumbed).
 */
export type ZoneStatus =
  | { state: 'absent' }
  | { state: 'running'; pid: number; startedAt: Date; restarts: number; netns: string | null }
  | { state: 'restarting'; exitCode: number | null; restarts: number; netns: string | null }
  /** exitCode null: the supervisor itself died (the zone went with it). */
  | { state: 'exited'; exitCode: number | null; restarts: number; error: string | null };

export interface ExecOptions {
  /** Allocate a terminal inside the zone (zonectl exec -it); the helper relays it to stdio (raw when stdin is a terminal). */
  tty?: boolean;
  /** 'inherit' (default): the command uses zonectl's stdio; 'pipe': output is captured. */
  stdio?: 'inherit' | 'pipe';
  /** Written to the command's stdin when stdio is 'pipe'. */
  input?: string;
}

export interface ExecResult {
  exitCode: number;
  /** Captured output with stdio 'pipe'; empty otherwise. */
  stdout: string;
  stderr: string;
}

export interface LogOptions {
  /** Keep reading as the zone writes (across rotations) until `signal` aborts. */
  follow?: boolean;
  /** Only the last N lines already written. */
  tail?: number;
  signal?: AbortSignal;
}

/** The fields of a running zone that change in place, without restarting it. */
export interface ZoneReconfiguration {
  hostname?: string;
  restart?: RestartPolicy;
  stopGraceMs?: number;
}

export interface ZoneDriver {
  /** Start the zone; resolves once its command was exec'd, rejects with the reason otherwise. Stale records are cleaned first. */
  start(project: string, zone: Zone, opts?: ZoneStartOptions): Promise<StartedZone>;
  /**
   * Make a network namespace for the zone's start (it holds only lo, up), so that its network
   * can be plumbed before the start's `ready`; give it to start as `netns`.
   */
  prepareNetwork(project: string, zone: string): Promise<PreparedNetns>;
  /**
   * Readies what starts need before they come, until release(): execute holds it while its
   * plan has zones to start, so that the helper's process is running when the first start
   * asks for it (its spawn and exec are then off that start's path).
   */
  hold(): { release(): void };
  /** SIGTERM, up to graceMs, then SIGKILL to every process of the zone (its netns goes with its supervisor); remove its records. Idempotent. */
  stop(project: string, zone: string, graceMs: number): Promise<void>;
  status(project: string, zone: string): Promise<ZoneStatus>;
  /** Apply hot fields to a running zone: its hostname, and the restart policy and grace period its supervisor follows. */
  reconfigure(project: string, zone: string, changes: ZoneReconfiguration): Promise<void>;
  /** Run argv inside the running zone (its namespaces, cgroups, root, env and privileges); resolves with its exit code. */
  exec(project: string, zone: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** The zone's stdout and stderr, oldest first. */
  logs(project: string, zone: string, opts?: LogOptions): AsyncIterable<Buffer>;
  /** Zones of the project that have logs or writable layers on disk (they outlive stop), sorted. */
  storedZones(project: string): Promise<string[]>;
  /** The project's directories of stored zones, once empty (a down interrupted between a zone's removal and theirs leaves them). */
  removeEmptyProject(project: string): Promise<void>;
  /** Delete what outlives stop: the zone's logs, and with `layers` its writable layers too (`down --volumes`). */
  remove(project: string, zone: string, opts: { layers: boolean }): Promise<void>;
}
