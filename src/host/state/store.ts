// What zonectl records, under /run/zonectl/PROJECT/ (a tmpfs: gone at reboot, like the
// zones; zonectl mounts one there where /run is not: volatile.ts): only what the kernel
// cannot tell. Each file is written atomically (temp + rename).
//
//   networks/NAME.json      the network as last applied
//   zones/ZONE/spec.json    the zone as last applied (resolved: addresses and MACs filled)
//                           and the hash of its replace-fields
//   zones/ZONE/...          the supervisor's own records (pid, start time, exit code)
//   hosts/ZONE              the zone's /etc/hosts (bind-mounted read-only; rewritten in place)
//   lock                    the project lock
//   watch.lock              held by `up --watch` while it watches (one watcher per project)

import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zoneSpecHash } from '../../model/fields.js';
import type { Network, Zone } from '../../model/types.js';
import { DEFAULT_RUN_DIR } from '../dirs.js';
import { HostError, errnoCode } from '../errors.js';
import { removeDirIfEmpty, writeFileAtomic } from '../files.js';
import { holdRunDir, type RunDirHold } from './volatile.js';


export interface ZoneSpecRecord {
  zone: Zone;
  /** zoneSpecHash(zone): the replace-fields. */
  hash: string;
  /** ISO 8601. */
  applied_at: string;
}

export interface NetworkRecord {
  network: Network;
  applied_at: string;
}

export class StateStore {
  /** `volatile`: keep the root in memory where its filesystem is not (volatile.ts); by default for /run/zonectl only. */
  constructor(
    readonly root: string = DEFAULT_RUN_DIR,
    private readonly volatile: boolean = root === DEFAULT_RUN_DIR,
  ) {}

  /** Held by a run that writes records, from before its lock until it is done. */
  async hold(): Promise<RunDirHold> {
    return this.volatile ? holdRunDir(this.root) : { release: async () => {} };
  }

  projectDir(project: string): string {
    return join(this.root, project);
  }
  zoneDir(project: string, zone: string): string {
    return join(this.root, project, 'zones', zone);
  }
  hostsPath(project: string, zone: string): string {
    return join(this.root, project, 'hosts', zone);
  }

  /**
   * Rewrites a zone's hosts file in place (same inode), so that a zone already running sees
   * the change through its bind mount; left alone when it already says `text`.
   */
  async writeHosts(project: string, zone: string, text: string): Promise<void> {
    const file = this.hostsPath(project, zone);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
      const fd = openSync(file, 'a+', 0o644);
      try {
        if (readFileSync(fd, 'utf8') !== text) {
          ftruncateSync(fd, 0);
          writeSync(fd, text, 0);
        }
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw new HostError(`write ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: file });
    }
  }

  async removeHosts(project: string, zone: string): Promise<void> {
    removeTree(this.hostsPath(project, zone));
  }

  lockPath(project: string): string {
    return join(this.root, project, 'lock');
  }
  watchLockPath(project: string): string {
    return join(this.root, project, 'watch.lock');
  }

  /** Projects that have records, sorted. */
  async projects(): Promise<string[]> {
    return listDir(this.root);
  }

  async zones(project: string): Promise<string[]> {
    return listDir(join(this.root, project, 'zones'));
  }

  async readZone(project: string, zone: string): Promise<ZoneSpecRecord | null> {
    return readJson<ZoneSpecRecord>(join(this.zoneDir(project, zone), 'spec.json'), isZoneRecord);
  }

  async writeZone(project: string, zone: Zone, now: Date): Promise<void> {
    const record: ZoneSpecRecord = { zone, hash: zoneSpecHash(zone), applied_at: now.toISOString() };
    writeFileAtomic(join(this.zoneDir(project, zone.name), 'spec.json'), `${JSON.stringify(record, null, 2)}\n`, RECORD);
  }

  async removeZone(project: string, zone: string): Promise<void> {
    removeTree(this.zoneDir(project, zone));
  }

  async networks(project: string): Promise<string[]> {
    return listDir(join(this.root, project, 'networks')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  }

  async readNetwork(project: string, name: string): Promise<NetworkRecord | null> {
    return readJson<NetworkRecord>(join(this.root, project, 'networks', `${name}.json`), isNetworkRecord);
  }

  async writeNetwork(project: string, network: Network, now: Date): Promise<void> {
    const record: NetworkRecord = { network, applied_at: now.toISOString() };
    writeFileAtomic(join(this.root, project, 'networks', `${network.name}.json`), `${JSON.stringify(record, null, 2)}\n`, RECORD);
  }

  async removeNetwork(project: string, name: string): Promise<void> {
    removeTree(join(this.root, project, 'networks', `${name}.json`));
  }

  /** Removes the project's records once nothing of it is left (the lock stays until released). */
  async removeProject(project: string): Promise<void> {
    for (const sub of ['zones', 'networks']) {
      // A temporary file of a writer killed before its rename is no record.
      const left = listDir(join(this.root, project, sub)).filter((f) => !f.endsWith('.tmp'));
      if (left.length > 0) return;
    }
    for (const sub of ['zones', 'networks', 'hosts']) removeTree(join(this.root, project, sub));
  }

  /** The project's directory, once empty but for a lock that was just removed. */
  async removeProjectDir(project: string): Promise<void> {
    removeDirIfEmpty(this.projectDir(project));
  }
}

// Every record is read and written synchronously (files.ts says why).

/** A record file's mode, and its directory's. */
const RECORD = { mode: 0o600, dirMode: 0o700 };

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw new HostError(`list ${dir}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: dir });
  }
}

async function readJson<T>(file: string, guard: (v: unknown) => v is T): Promise<T | null> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw new HostError(`read ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err, path: file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // A torn or foreign file: treat as absent, so the zone is recreated rather than trusted.
    return ignoreCorrupt(file, err);
  }
  return guard(value) ? value : ignoreCorrupt(file, new Error('unexpected shape'));
}

function ignoreCorrupt(file: string, err: unknown): null {
  process.emitWarning(`ignoring unreadable record ${file}: ${err instanceof Error ? err.message : String(err)}`);
  return null;
}

function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (err) {
    throw new HostError(`remove ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err, path });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isZoneRecord(v: unknown): v is ZoneSpecRecord {
  return isObject(v) && isObject(v.zone) && typeof v.zone.name === 'string' && isObject(v.zone.limits) && typeof v.hash === 'string';
}

function isNetworkRecord(v: unknown): v is NetworkRecord {
  return isObject(v) && isObject(v.network) && typeof v.network.name === 'string' && typeof v.network.subnet === 'string';
}
