// `zonectl logs` and `zonectl exec`: read-only, never take the lock.

import { loadConfig, type LoadOptions } from '../config/load.js';
import { createZoneDriver, type HostOptions } from '../host/index.js';
import type { LogOptions } from '../host/zone/driver.js';
import { UserError } from './errors.js';

async function zoneOf(opts: LoadOptions & HostOptions, zone: string) {
  const { desired } = loadConfig(opts);
  const zones = await createZoneDriver(opts);
  const status = await zones.status(desired.project, zone);
  if (status.state === 'absent' && !desired.zones[zone]) {
    throw new UserError(`no zone ${JSON.stringify(zone)} in project ${desired.project} (zones: ${Object.keys(desired.zones).join(', ') || 'none'})`);
  }
  return { project: desired.project, zones, status };
}

export async function logs(opts: LoadOptions & HostOptions, zone: string, log: LogOptions): Promise<AsyncIterable<Buffer>> {
  const { project, zones } = await zoneOf(opts, zone);
  return zones.logs(project, zone, log);
}

export async function execIn(opts: LoadOptions & HostOptions, zone: string, argv: string[], exec: { tty: boolean }): Promise<number> {
  const { project, zones, status } = await zoneOf(opts, zone);
  if (status.state !== 'running') throw new UserError(`zone ${zone} is not running (${status.state}): start it with zonectl up`);
  const r = await zones.exec(project, zone, argv, { tty: exec.tty, stdio: 'inherit' });
  return r.exitCode;
}
