// An in-memory ZoneDriver for reconcile tests: it keeps what the real one would leave on the
// host (a supervisor record per started zone, and its network namespace, which lives as long
// as the start that made it, then as its supervisor), so that status() and observe() read it
// back; it records every call in order, can be made to fail on a given zone and call, and
// offers the drift a person could cause by hand (a zone's process dying, a record left
// without its process).

import type { Zone } from '../../model/types.js';
import type { ExecOptions, ExecResult, LogOptions, PreparedNetns, StartedZone, ZoneDriver, ZoneReconfiguration, ZoneStartOptions, ZoneStatus } from '../zone/driver.js';
import { HostError } from '../errors.js';

export type FakeZoneCall = 'start' | 'prepareNetwork' | 'stop' | 'status' | 'exec' | 'logs' | 'remove';

/** A failure to inject: `call` on `zone` fails with `code`, `times` times (default once). */
export interface FakeZoneFailure {
  project?: string;
  zone: string;
  call: FakeZoneCall;
  code: string;
  times?: number;
}

/** What the supervisor's record would say about a started zone. */
export interface FakeZoneRecord {
  zone: Zone;
  state: 'running' | 'restarting' | 'exited';
  /** Host pid of the zone's init; kept after it exited, like the record. */
  pid: number;
  startedAt: Date;
  exitCode: number | null;
  restarts: number;
  /** The cgroup.procs files the zone's processes joined. */
  cgroupProcs: string[];
  /** The cgroup.procs files its supervisor joined (none: it stayed in the caller's cgroup). */
  supervisorProcs: string[];
}

export interface FakeZoneDriverOptions {
  /** The start time given to started zones. */
  now?: () => Date;
  /** Told when a zone's network namespace goes away (its veths go with it in the kernel). */
  onNetnsGone?: (project: string, zone: string) => void;
}

const key = (project: string, zone: string): string => `${project}/${zone}`;

export class FakeZoneDriver implements ZoneDriver {
  /** `start p/web`, `stop p/web 10000`...: every call except status, in order. */
  readonly calls: string[] = [];
  /** project/zone → the supervisor's record. */
  readonly records = new Map<string, FakeZoneRecord>();
  /** project/zone of every live network namespace: a start's, then its supervisor's. */
  readonly netns = new Set<string>();
  /** project/zone of zones whose logs (and layers) exist. */
  readonly stored = new Set<string>();
  /** Holds taken (hold()) and not yet released; `holdsTaken` counts every one, `startsHeld` the starts made under one. */
  holding = 0;
  holdsTaken = 0;
  startsHeld = 0;
  private readonly failures: FakeZoneFailure[] = [];
  private nextPid = 4000;
  private nextFd = 100;

  constructor(private readonly opts: FakeZoneDriverOptions) {}

  /** Make `call` on `zone` fail with `code` (e.g. `ENOSPC`), `times` times. */
  failOn(zone: string, call: FakeZoneCall, code = 'EIO', times = 1): void {
    this.failures.push({ zone, call, code, times });
  }

  private fail(project: string, zone: string, call: FakeZoneCall, what: string): void {
    const i = this.failures.findIndex((f) => f.zone === zone && f.call === call && (f.project === undefined || f.project === project));
    if (i < 0) return;
    const f = this.failures[i]!;
    const times = (f.times ?? 1) - 1;
    if (times <= 0) this.failures.splice(i, 1);
    else this.failures[i] = { ...f, times };
    throw new HostError(`${what}: ${f.code}`, { code: f.code });
  }

  async start(project: string, zone: Zone, opts: ZoneStartOptions = {}): Promise<StartedZone> {
    const k = key(project, zone.name);
    this.calls.push(`start ${k}`);
    if (this.holding > 0) this.startsHeld++;
    const current = this.records.get(k);
    if (current && current.state !== 'exited') throw new HostError(`start zone ${zone.name}: already ${current.state}`, { code: 'EEXIST' });
    // as the real one: the zone starts once its cgroup and its network namespace are made
    const [procs, made, supervisors] = await Promise.allSettled([opts.cgroupProcs, opts.netns ?? this.prepareNetwork(project, zone.name), opts.supervisorProcs]);
    let going: Promise<void> | undefined;
    try {
      if (procs.status === 'rejected') throw procs.reason;
      if (supervisors.status === 'rejected') throw supervisors.reason;
      if (made.status === 'rejected') throw made.reason;
      this.fail(project, zone.name, 'start', `start zone ${zone.name}`);
      // the helper has it: the caller's part begins; the command runs once it is done, and a
      // failure of it calls the start off (its reason, and nothing stays)
      going = opts.ready?.();
      await going;
    } catch (e) {
      // the namespace went with the start's descriptor, and the veths plumbed into it with it
      if (made.status === 'fulfilled') {
        await going?.catch(() => {});
        this.netnsGone(project, zone.name);
      }
      throw e;
    }
    const cgroupProcs = procs.value;
    const supervisorProcs = supervisors.status === 'fulfilled' ? supervisors.value : undefined;
    const started = { pid: this.nextPid++, startedAt: this.opts.now?.() ?? new Date(0) };
    this.records.set(k, { zone: structuredClone(zone), state: 'running', ...started, exitCode: null, restarts: 0, cgroupProcs: [...(cgroupProcs ?? [])], supervisorProcs: [...(supervisorProcs ?? [])] });
    this.stored.add(k);
    return started;
  }

  hold(): { release(): void } {
    this.holding++;
    this.holdsTaken++;
    let held = true;
    return {
      release: () => {
        if (held) this.holding--;
        held = false;
      },
    };
  }

  async prepareNetwork(project: string, zone: string): Promise<PreparedNetns> {
    this.calls.push(`prepareNetwork ${key(project, zone)}`);
    this.fail(project, zone, 'prepareNetwork', `network namespace of zone ${zone}`);
    this.netns.add(key(project, zone));
    const fd = this.nextFd++;
    return { path: `/proc/self/fd/${fd}`, fd };
  }

  async stop(project: string, zone: string, graceMs: number): Promise<void> {
    const k = key(project, zone);
    this.calls.push(`stop ${k} ${graceMs}`);
    this.fail(project, zone, 'stop', `stop zone ${zone}`);
    this.records.delete(k);
    this.netnsGone(project, zone);
  }

  async status(project: string, zone: string): Promise<ZoneStatus> {
    this.fail(project, zone, 'status', `status of zone ${zone}`);
    const r = this.records.get(key(project, zone));
    if (!r) return { state: 'absent' };
    switch (r.state) {
      case 'running':
        return { state: 'running', pid: r.pid, startedAt: r.startedAt, restarts: r.restarts, netns: `/proc/${r.pid}/ns/net` };
      case 'restarting':
        return { state: 'restarting', exitCode: r.exitCode, restarts: r.restarts, netns: `/proc/${r.pid}/ns/net` };
      case 'exited':
        return { state: 'exited', exitCode: r.exitCode, restarts: r.restarts, error: null };
      default: {
        const never: never = r.state;
        return never;
      }
    }
  }

  async exec(project: string, zone: string, argv: readonly string[], _opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(`exec ${key(project, zone)} ${argv.join(' ')}`);
    this.fail(project, zone, 'exec', `exec in zone ${zone}`);
    if (this.records.get(key(project, zone))?.state !== 'running') throw new HostError(`exec in zone ${zone}: the zone is not running`, { code: 'ESRCH' });
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  logs(project: string, zone: string, _opts: LogOptions = {}): AsyncIterable<Buffer> {
    this.calls.push(`logs ${key(project, zone)}`);
    const have = this.stored.has(key(project, zone));
    return (async function* () {
      if (have) yield Buffer.from(`${zone} started\n`);
    })();
  }

  async reconfigure(project: string, zone: string, changes: ZoneReconfiguration): Promise<void> {
    this.calls.push(`reconfigure ${key(project, zone)} ${Object.keys(changes).sort().join(',')}`);
    const r = this.records.get(key(project, zone));
    if (changes.hostname !== undefined && r?.state !== 'running') throw new HostError(`set hostname of zone ${zone}: the zone is not running`, { code: 'ESRCH' });
  }

  async removeEmptyProject(): Promise<void> {
    // nothing on disk
  }

  async storedZones(project: string): Promise<string[]> {
    return [...this.stored].filter((k) => k.startsWith(`${project}/`)).map((k) => k.slice(project.length + 1)).sort();
  }

  async remove(project: string, zone: string, opts: { layers: boolean }): Promise<void> {
    const k = key(project, zone);
    this.calls.push(`remove ${k}${opts.layers ? ' layers' : ''}`);
    this.fail(project, zone, 'remove', `remove zone ${zone}`);
    const r = this.records.get(k);
    if (r && r.state !== 'exited') throw new HostError(`remove zone ${zone}: it is ${r.state}; stop it first`, { code: 'EBUSY' });
    this.stored.delete(k);
  }

  // ------------------------------------------------------------ drift, as caused by hand

  /** The zone's init dies (SIGKILL from outside): the record says exited, and the supervisor leaves with its netns. */
  killZone(project: string, zone: string, exitCode = 137): void {
    const r = this.records.get(key(project, zone));
    if (r) this.records.set(key(project, zone), { ...r, state: 'exited', exitCode });
    this.netnsGone(project, zone);
  }

  /** The zone's network namespace had its last holder go: its veths vanish with it. */
  private netnsGone(project: string, zone: string): void {
    if (this.netns.delete(key(project, zone))) this.opts.onNetnsGone?.(project, zone);
  }

  /** Running zones of a project, sorted. */
  running(project: string): string[] {
    return [...this.records].filter(([k, r]) => k.startsWith(`${project}/`) && r.state === 'running').map(([k]) => k.slice(project.length + 1)).sort();
  }
}
