// Desired states from YAML text, and the actual state a host would show once a plan was
// applied (what a perfect reconcile converges to): for planner tests.

import { loadConfig } from '../../src/config/load.js';
import type { ActualState, HostFacts } from '../../src/model/actual.js';
import type { DesiredState } from '../../src/model/types.js';
import { resolveAttachments } from '../../src/plan/ipam.js';
import { testdir } from './testdir.js';

export const HOST: HostFacts = { cpus: [0, 1], routes: ['0.0.0.0/0', '172.16.0.0/24'], nft: true };

export function desiredFrom(yaml: string, env: Record<string, string> = {}): DesiredState {
  const dir = testdir({ 'zones.yaml': yaml }, { name: 'proj' });
  return loadConfig({ files: [dir], env }).desired;
}

/** The actual state after `desired` was applied perfectly. */
export function converged(desired: DesiredState, host: HostFacts = HOST): ActualState {
  const zones = resolveAttachments(desired, { project: desired.project, global: null, networks: {}, zones: {}, host }, []);
  return {
    project: desired.project,
    host,
    global: Object.keys(zones).length ? { limits: structuredClone(desired.global.limits) } : null,
    networks: Object.fromEntries(Object.entries(desired.networks).map(([n, net]) => [n, { network: structuredClone(net), present: true }])),
    zones: Object.fromEntries(
      Object.entries(zones).map(([name, z]) => [
        name,
        {
          name,
          state: 'running' as const,
          pid: 1000,
          exit_code: null,
          started_at: '2026-11-29T10:00:00.000Z',
          applied: structuredClone(z),
          limits: structuredClone(z.limits),
          networks: Object.fromEntries(Object.entries(z.networks).map(([n, a]) => [n, { address: a.address!, mac: a.mac!, bandwidth: a.bandwidth }])),
          memory_current: 10 << 20,
        },
      ]),
    ),
  };
}
