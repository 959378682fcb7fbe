// What every host-facing command starts with: the resolved configuration, the host's
// drivers, and the desired state in the form the kernel will report it back (so that a
// converged host plans nothing: page-rounded memory, v1 shares, tc byte rates).

import { loadConfig, type LoadOptions } from '../config/load.js';
import { createHost, type Host, type HostOptions } from '../host/index.js';
import { canonicalBandwidth } from '../host/net/shaping.js';
import type { DesiredState } from '../model/types.js';

export interface ProjectOptions extends LoadOptions, HostOptions {}

export interface Project {
  desired: DesiredState;
  host: Host;
  sources: string[];
}

export async function openProject(opts: ProjectOptions): Promise<Project> {
  const { desired, sources } = loadConfig(opts);
  const host = await createHost(opts);
  return { desired: canonical(desired, host), host, sources };
}

export function canonical(d: DesiredState, host: Host): DesiredState {
  return {
    ...d,
    global: { limits: host.cgroup.canonical(d.global.limits) },
    zones: Object.fromEntries(
      Object.entries(d.zones).map(([name, z]) => [
        name,
        {
          ...z,
          limits: host.cgroup.canonical(z.limits),
          networks: Object.fromEntries(Object.entries(z.networks).map(([n, a]) => [n, { ...a, bandwidth: canonicalBandwidth(a.bandwidth) }])),
        },
      ]),
    ),
  };
}
