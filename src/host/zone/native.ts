// The real ZoneDriver: the helper executable creates, supervises and enters zones (Node cannot
// fork or setns into pid/mount namespaces); this module prepares its files, reads its records
// and signals through pidfds.

import { closeSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from '../afs.js';
import { basename, dirname, join } from 'node:path';

import type { Zone } from '../../model/types.js';
import { HELPER_PATH, SysError, pidfdOpen, pidfdSendSignal, pidfdWait, sysErrorFromErrno } from '../../native/index.js';
import { netnsMake } from '../../native/net.js';
import { HostError } from '../errors.js';
import { removeDirIfEmpty, removeFile, writeFileAtomic } from '../files.js';
import type { ExecOptions, ExecResult, LogOptions, PreparedNetns, StartedZone, ZoneDriver, ZoneReconfiguration, ZoneStartOptions, ZoneStatus } from './driver.js';
import { IDS_PER_ZONE, IdRanges } from './idmap.js';
import { type ProgramOutput, runProgram } from '../run.js';
import { ensureImage } from './image.js';
import { readLogs } from './logs.js';
import { ZonePaths } from './paths.js';
import { type SupervisorRecord, isSameProcess, readRecord } from './record.js';
import { type HelperReservation, HelperServer } from './serve.js';
import { type HelperSpecInput, encodeHelperSpec } from './spec.js';

/** The mode of the files zonectl writes in a zone's run directory (files.ts: synchronously). */
const RUN_FILE = { mode: 0o600 };

/** The files of a zone's run directory that a stop or a new start removes. */
const RUN_FILES = ['state', 'state.tmp', 'helper.spec', 'helper.spec.tmp', 'stop_grace_ms', 'stop_grace_ms.tmp', 'restart', 'restart.tmp'];

const DEFAULT_LOG = { maxBytes: 10 * 1024 * 1024, maxFiles: 3 };
/** How long stop waits for the supervisor to record the exit after the zone is gone. */
const SUPERVISOR_EXIT_MS = 5_000;

export interface NativeZoneDriverOptions {
  paths?: ZonePaths;
  helper?: string;
  log?: { maxBytes: number; maxFiles: number };
}

/** Open a pidfd for a recorded process, or null when it is gone or the pid was reused. */
async function openVerified(pid: number, start: string): Promise<number | null> {
  if (!(await isSameProcess(pid, start))) return null;
  let fd: number;
  try {
    fd = pidfdOpen(pid);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ESRCH') return null;
    throw e;
  }
  // the pid could have been reused between the check and the open: check again, now pinned
  if (!(await isSameProcess(pid, start))) {
    closeSync(fd);
    return null;
  }
  return fd;
}

/** The helper's `error ERRNO OP\tDETAIL` line (or whatever it printed) as a HostError for `what`. */
function helperFailure(what: string, out: ProgramOutput): HostError {
  const line = out.stdout.trim();
  const err = /^error (\d+) (\S+)\t(.*)$/.exec(line);
  if (!err) return new HostError(`${what}: the helper failed (exit ${out.code}): ${(out.stderr || line).trim()}`);
  const cause = sysErrorFromErrno(Number(err[1]), err[2] ?? '?', err[3] ?? '');
  return new HostError(`${what}: ${err[2]} ${err[3]}: ${cause.code}`, { cause, code: cause.code });
}

/** Signal through a pidfd; a process that exited in the meantime (ESRCH) needs no signal. */
function signal(pidfd: number, sig: NodeJS.Signals): void {
  try {
    pidfdSendSignal(pidfd, sig);
  } catch (e) {
    if (!(e instanceof SysError && e.code === 'ESRCH')) throw e;
  }
}

export class NativeZoneDriver implements ZoneDriver {
  readonly paths: ZonePaths;
  private readonly helper: string;
  private readonly log: { maxBytes: number; maxFiles: number };
  private readonly ids: IdRanges;
  private readonly server: HelperServer;

  constructor(opts: NativeZoneDriverOptions = {}) {
    this.paths = opts.paths ?? new ZonePaths();
    this.ids = new IdRanges(this.paths.libDir);
    this.helper = opts.helper ?? HELPER_PATH;
    this.server = new HelperServer(this.helper);
    this.log = opts.log ?? DEFAULT_LOG;
  }

  async start(project: string, zone: Zone, opts: ZoneStartOptions = {}): Promise<StartedZone> {
    // The namespace's descriptor is this start's to close, whatever happens: once the helper
    // has it and the caller is done plumbing it through its path (a leaked one would keep the
    // namespace, and the veths plumbed into it, for as long as this process lives).
    const netns = opts.netns ?? this.prepareNetwork(project, zone.name);
    netns.catch(() => {}); // its failure is reported where it is awaited (begin)
    // the helper's serve process, started now (if none runs): its exec overlaps with begin()'s work
    const helper = this.server.reserve();
    try {
      return await this.begin(project, zone, opts, netns, helper);
    } finally {
      helper.release();
      // begin has settled, and with it ready's promise (run waits for it): nothing plumbs it any more
      const made = await netns.catch(() => null);
      if (made !== null) closeSync(made.fd);
    }
  }

  private async begin(project: string, zone: Zone, opts: ZoneStartOptions, netns: Promise<PreparedNetns>, helper: HelperReservation): Promise<StartedZone> {
    const p = this.paths;
    const name = zone.name;
    const rec = await readRecord(p.record(project, name));
    const current = await statusOf(rec);
    if (current.state === 'running' || current.state === 'restarting') {
      throw new HostError(`start zone ${name}: already ${current.state}`, { code: 'EEXIST' });
    }
    await this.cleanup(project, name, 0, rec); // stale records or processes of an earlier run

    let lower: string | null = null;
    let digest: string | undefined;
    if (zone.root.kind === 'path') {
      lower = zone.root.path;
      const st = await stat(lower).catch((e: unknown) => {
        throw new HostError(`start zone ${name}: root ${lower}`, { cause: e, path: lower ?? '' });
      });
      if (!st.isDirectory()) throw new HostError(`start zone ${name}: root ${lower} is not a directory`, { code: 'ENOTDIR', path: lower });
    } else if (zone.root.kind === 'image') {
      const img = await ensureImage(zone.root.image, p.images());
      lower = img.dir;
      digest = img.digest;
    }
    const userns = zone.privileges.userns;
    const layer = p.layer(project, name, zone.root, digest, userns);
    const log = opts.log ?? this.log;
    // on /run; the zone's directory on LIB and its layer are the helper's to make (on the disk,
    // each new directory costs an inode: not on this busy thread)
    mkdirSync(p.rootfs(project, name), { recursive: true, mode: 0o700 });
    const ids = userns ? { base: await this.ids.allocate(project, name), count: IDS_PER_ZONE } : undefined;
    // the caller makes the zone's cgroup and its network namespace meanwhile
    const [procs, made, supervisors] = await Promise.all([opts.cgroupProcs, netns, opts.supervisorProcs]);
    return this.run(project, zone, made.path, helper, supervisors, {
      project, zone, lower,
      rootfs: p.rootfs(project, name),
      upper: layer.upper,
      work: layer.work,
      stateDir: p.zoneRun(project, name),
      logPath: p.log(project, name),
      logMaxBytes: log.maxBytes,
      logMaxFiles: log.maxFiles,
      cgroupProcs: procs ?? [],
      ...(ids === undefined ? {} : { userns: ids }),
    }, opts.ready);
  }

  /** The helper's start of a zone whose cgroup and network namespace (`netns`, its path) are there. */
  private async run(project: string, zone: Zone, netns: string, helper: HelperReservation, supervisors: readonly string[] | undefined, helperSpec: HelperSpecInput, ready: (() => Promise<void>) | undefined): Promise<StartedZone> {
    const name = zone.name;
    const specPath = this.paths.spec(project, name);
    writeFileAtomic(specPath, encodeHelperSpec(helperSpec), RUN_FILE);
    let out: ProgramOutput;
    let go: Promise<void> | undefined;
    try {
      const run = helper.start(specPath, netns, ready !== undefined, supervisors);
      // the caller's part begins now, while the helper assembles the zone; go: its command may run
      go = ready?.();
      go?.then(() => run.send('g'), () => {}).finally(() => run.close());
      out = await run.done;
    } catch (e) {
      await go?.catch(() => {}); // the caller may still be plumbing the namespace
      await this.stop(project, name, 0);
      throw new HostError(`start zone ${name}: run ${this.helper}`, { cause: e, path: this.helper });
    }
    const line = out.stdout.trim();
    const ok = /^ok (\d+) (\d+)$/.exec(line);
    if (out.code === 0 && ok) return { pid: Number(ok[1]), startedAt: new Date(Number(ok[2])) };
    // Called off, what made the caller call it off is the reason, not the helper's ECANCELED.
    const calledOff = go === undefined ? null : await go.then(() => null, (reason: unknown) => ({ reason }));
    await this.stop(project, name, 0);
    if (calledOff !== null) throw calledOff.reason;
    throw helperFailure(`start zone ${name}`, out);
  }

  hold(): { release(): void } {
    return this.server.reserve();
  }

  async prepareNetwork(project: string, zone: string): Promise<PreparedNetns> {
    try {
      const fd = await netnsMake();
      // by this process's pid, not /proc/self: the helper opens it too
      return { path: `/proc/${process.pid}/fd/${fd}`, fd };
    } catch (e) {
      // the code (EPERM, ENOSPC...) comes from the SysError
      throw new HostError(`network namespace of zone ${zone} (project ${project}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async stop(project: string, zone: string, graceMs: number): Promise<void> {
    await this.cleanup(project, zone, graceMs);
    // Shared parents go only on stop: a start cleaning up while another zone of the project is
    // being made under them must not pull them away (seen at 8 starts at once: ENOTDIR).
    removeDirIfEmpty(dirname(this.paths.zoneRun(project, zone))); // zones/
    removeDirIfEmpty(this.paths.projectRun(project));
  }

  /** stop(); `known`: the record, read already. The network namespace goes with the supervisor, its last holder. */
  private async cleanup(project: string, zone: string, graceMs: number, known?: SupervisorRecord | null): Promise<void> {
    const p = this.paths;
    const rec = known === undefined ? await readRecord(p.record(project, zone)) : known;
    if (rec) {
      // the supervisor reads it on SIGTERM: the grace period holds even if this process dies now
      writeFileSync(`${p.zoneRun(project, zone)}/stop_grace_ms`, String(Math.max(0, Math.round(graceMs))));
      await this.kill(rec, graceMs);
    }
    const run = p.zoneRun(project, zone);
    // one readdir: a zone that never ran (every zone of a first up) has no directory at all
    let left: string[] | null;
    try {
      left = readdirSync(run);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      left = null;
    }
    if (left !== null) {
      for (const f of RUN_FILES) if (left.includes(f)) removeFile(`${run}/${f}`);
      removeDirIfEmpty(p.rootfs(project, zone));
      removeDirIfEmpty(run);
    }
  }

  /** SIGTERM through the supervisor (which stops restarting), SIGKILL to the zone's init after graceMs. */
  private async kill(rec: SupervisorRecord, graceMs: number): Promise<void> {
    const sup = await openVerified(rec.supervisorPid, rec.supervisorStart);
    const init = rec.initPid > 0 ? await openVerified(rec.initPid, rec.initStart) : null;
    try {
      if (sup !== null) signal(sup, 'SIGTERM');
      else if (init !== null) signal(init, 'SIGTERM');
      if (init !== null && !(await pidfdWait(init, graceMs))) {
        signal(init, 'SIGKILL'); // pid 1 of the namespace: the kernel kills all of it
        await pidfdWait(init, SUPERVISOR_EXIT_MS);
      }
      if (sup !== null && !(await pidfdWait(sup, graceMs + SUPERVISOR_EXIT_MS))) {
        signal(sup, 'SIGKILL'); // its zone dies with it (PDEATHSIG)
        await pidfdWait(sup, SUPERVISOR_EXIT_MS);
      }
    } finally {
      if (sup !== null) closeSync(sup);
      if (init !== null) closeSync(init);
    }
  }

  async status(project: string, zone: string): Promise<ZoneStatus> {
    return statusOf(await readRecord(this.paths.record(project, zone)));
  }

  async exec(project: string, zone: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new HostError(`exec in zone ${zone}: no command`, { code: 'EINVAL' });
    const st = await this.status(project, zone);
    if (st.state !== 'running') throw new HostError(`exec in zone ${zone}: the zone is not running`, { code: 'ESRCH' });
    const args = ['exec', this.paths.spec(project, zone), String(st.pid), ...(opts.tty ? ['--tty'] : []), '--', ...argv];
    const inherit = (opts.stdio ?? 'inherit') === 'inherit';
    const out = await runProgram(this.helper, args, inherit ? { inherit } : opts.input === undefined ? {} : { input: opts.input }).done;
    return { exitCode: out.code, stdout: out.stdout, stderr: out.stderr };
  }

  logs(project: string, zone: string, opts: LogOptions = {}): AsyncIterable<Buffer> {
    return readLogs(this.paths.log(project, zone), this.log.maxFiles, opts);
  }

  async reconfigure(project: string, zone: string, changes: ZoneReconfiguration): Promise<void> {
    const run = this.paths.zoneRun(project, zone);
    // The supervisor reads these files when it needs them (an exit, a stop): no signal needed.
    if (changes.restart !== undefined) {
      const r = changes.restart;
      writeFileAtomic(`${run}/restart`, `${r.policy} ${r.policy === 'on-failure' ? (r.max_retries ?? -1) : r.policy === 'always' ? -1 : 0}\n`, RUN_FILE);
    }
    if (changes.stopGraceMs !== undefined) writeFileAtomic(`${run}/stop_grace_ms`, String(Math.max(0, Math.round(changes.stopGraceMs))), RUN_FILE);
    if (changes.hostname !== undefined) {
      const st = await this.status(project, zone);
      if (st.state !== 'running') throw new HostError(`set hostname of zone ${zone}: the zone is not running`, { code: 'ESRCH' });
      const out = await runProgram(this.helper, ['hostname', String(st.pid), changes.hostname]).done;
      if (out.code !== 0) throw helperFailure(`set hostname of zone ${zone}`, out);
    }
  }

  async storedZones(project: string): Promise<string[]> {
    const dir = dirname(this.paths.zoneLib(project, 'x'));
    return (await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw new HostError(`list ${dir}: ${e.code ?? String(e)}`, { cause: e, path: dir });
    })).sort();
  }

  async remove(project: string, zone: string, opts: { layers: boolean }): Promise<void> {
    const st = await this.status(project, zone);
    if (st.state === 'running' || st.state === 'restarting') {
      throw new HostError(`remove zone ${zone}: it is ${st.state}; stop it first`, { code: 'EBUSY' });
    }
    const dir = this.paths.zoneLib(project, zone);
    if (!opts.layers) {
      // the log and its rotations (zone.log.N); the layers stay
      const log = basename(this.paths.log(project, zone));
      const entries = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(entries.filter((f) => f === log || f.startsWith(`${log}.`)).map((f) => rm(join(dir, f), { force: true })));
      if ((await readdir(dir).catch(() => ['x'])).length > 0) return;
    }
    await rm(dir, { recursive: true, force: true });
    await this.ids.free(project, zone); // its layers are gone: so are the files its ids owned
    await this.removeEmptyProject(project);
  }

  async removeEmptyProject(project: string): Promise<void> {
    const zones = dirname(this.paths.zoneLib(project, 'x'));
    removeDirIfEmpty(zones);
    removeDirIfEmpty(dirname(zones));
    const projects = dirname(dirname(zones));
    if ((await readdir(projects).catch(() => ['x'])).length === 0) removeDirIfEmpty(projects);
  }
}

let hostNetns: string | undefined;

/**
 * The path of the network namespace a live supervisor holds (it lives in it: the helper's
 * start), or null when that is this process's own namespace (a supervisor made before zonectl
 * worked this way, or a pid reused since it was checked): never plumbed as a zone's.
 */
function supervisorNetns(pid: number): string | null {
  const path = `/proc/${pid}/ns/net`;
  try {
    hostNetns ??= readlinkSync('/proc/self/ns/net');
    return readlinkSync(path) === hostNetns ? null : path;
  } catch {
    return null; // gone meanwhile
  }
}

/** What a zone's supervisor record (null: none) says of it, checked against the live processes. */
async function statusOf(rec: SupervisorRecord | null): Promise<ZoneStatus> {
  if (rec === null) return { state: 'absent' };
  const exitCode = rec.exitCode >= 0 ? rec.exitCode : null;
  const supervised = await isSameProcess(rec.supervisorPid, rec.supervisorStart);
  if (!supervised) {
    // the supervisor is gone: its zone went with it; what it last recorded is all there is
    return { state: 'exited', exitCode: rec.state === 'exited' ? exitCode : null, restarts: rec.restarts, error: rec.error };
  }
  if (rec.state === 'exited') return { state: 'exited', exitCode, restarts: rec.restarts, error: rec.error };
  const netns = supervisorNetns(rec.supervisorPid);
  if (rec.state === 'running' && (await isSameProcess(rec.initPid, rec.initStart))) {
    return { state: 'running', pid: rec.initPid, startedAt: new Date(rec.startedAt), restarts: rec.restarts, netns };
  }
  return { state: 'restarting', exitCode, restarts: rec.restarts, netns };
}
