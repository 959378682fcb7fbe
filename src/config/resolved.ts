// DesiredState → the resolved file (what `zonectl config` prints): the same key names as
// zones.yaml, units normalised to numbers (bytes, CPUs, bits/s, milliseconds), a cleared
// limit as null, every default filled in.

import { cpusOf, formatCpuset } from '../model/units.js';
import type { DesiredState, Limits, RestartPolicy, Root, Zone } from '../model/types.js';

export function resolvedConfig(d: DesiredState): Record<string, unknown> {
  return {
    name: d.project,
    global: { limits: limitsOut(d.global.limits) },
    networks: Object.fromEntries(Object.values(d.networks).map(({ name, ...n }) => [name, n])),
    zones: Object.fromEntries(Object.values(d.zones).map((z) => [z.name, zoneOut(z)])),
  };
}

function zoneOut({ name: _name, ...z }: Zone): Record<string, unknown> {
  return {
    ...z,
    root: rootOut(z.root),
    limits: limitsOut(z.limits),
    restart: restartOut(z.restart),
  };
}

export function limitsOut(l: Limits): Record<string, unknown> {
  return { ...l, cpus: l.cpus ? cpusOf(l.cpus) : null, cpuset: l.cpuset ? formatCpuset(l.cpuset) : null };
}

export function rootOut(r: Root): unknown {
  switch (r.kind) {
    case 'sparse':
      return 'sparse';
    case 'path':
      return { path: r.path };
    case 'image':
      return { image: r.image };
    default: {
      const never: never = r;
      return never;
    }
  }
}

export function restartOut(r: RestartPolicy): string {
  return r.policy === 'on-failure' && r.max_retries !== null ? `on-failure:${r.max_retries}` : r.policy;
}
