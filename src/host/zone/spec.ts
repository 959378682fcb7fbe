// The helper's spec (native/helper/spec.h): NUL-terminated fields; each record is a key and a
// fixed number of values; lists are repeated records; `version 1` first, `end` last.

import { CAPABILITIES, effectiveCapabilities } from '../../model/capabilities.js';
import type { Zone } from '../../model/types.js';

export interface HelperSpecInput {
  project: string;
  zone: Zone;
  /** The lower layer: a directory or an unpacked image; null for sparse. */
  lower: string | null;
  rootfs: string;
  upper: string;
  work: string;
  stateDir: string;
  logPath: string;
  logMaxBytes: number;
  logMaxFiles: number;
  cgroupProcs: readonly string[];
  /** privileges.userns: the zone's ids 0..count-1 are host ids base..base+count-1 (idmap.ts). */
  userns?: { base: number; count: number };
}

/** Environment every zone gets unless it sets the variable itself (as Docker does). */
export function zoneEnvironment(zone: Zone): string[] {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: zone.hostname,
    ...zone.env,
  };
  return Object.keys(env).sort().map((k) => `${k}=${env[k] ?? ''}`);
}

/** Bit n set = capability n (include/uapi/linux/capability.h) kept; as hex. */
export function capabilityMask(zone: Zone): string {
  let mask = 0n;
  for (const cap of effectiveCapabilities(zone.privileges.capabilities.add, zone.privileges.capabilities.drop)) {
    mask |= 1n << BigInt(CAPABILITIES.indexOf(cap));
  }
  return mask.toString(16).padStart(16, '0');
}

/** A zone without a command idles (a place to `zonectl exec` into) until it is stopped. */
export const IDLE = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

export function encodeHelperSpec(i: HelperSpecInput): Buffer {
  const z = i.zone;
  const records: string[][] = [
    ['version', '1'],
    ['project', i.project],
    ['zone', z.name],
    ['hostname', z.hostname],
    ['root', z.root.kind, i.lower ?? ''],
    ['rootfs', i.rootfs],
    ['layer', i.upper, i.work],
    ['read_only', z.read_only ? '1' : '0'],
    ...(z.command.length > 0 ? z.command : IDLE).map((a) => ['arg', a]),
    ...zoneEnvironment(z).map((e) => ['env', e]),
    ['workdir', z.workdir === '' ? '/' : z.workdir],
    ...(z.user === null ? [] : [['user', z.user]]),
    ...z.mounts.map((m) =>
      m.type === 'bind' ? ['bind', m.source, m.target, m.read_only ? '1' : '0'] : ['tmpfs', m.target, String(m.size ?? 0)],
    ),
    ['caps', capabilityMask(z)],
    ...i.cgroupProcs.map((c) => ['cgroup', c]),
    ['state', i.stateDir],
    ['log', i.logPath, String(i.logMaxBytes), String(i.logMaxFiles)],
    ['restart', z.restart.policy, String(z.restart.policy === 'on-failure' ? (z.restart.max_retries ?? -1) : -1)],
    ['grace', String(z.stop_grace_period)],
    ['seccomp', z.privileges.seccomp],
    ...(i.userns === undefined ? [] : [['userns', String(i.userns.base), String(i.userns.count)]]),
    ['end'],
  ];
  for (const r of records) {
    for (const f of r) {
      if (f.includes('\0')) throw new Error(`zone ${z.name}: ${r[0]} contains a NUL character`);
    }
  }
  return Buffer.from(records.flat().map((f) => `${f}\0`).join(''), 'utf8');
}
