// `zonectl ps`: the project's zones as the host runs them. Read-only.

import { createHost, type HostOptions } from '../host/index.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { observe } from '../reconcile/observe.js';
import { limitsView } from '../model/view.js';
import type { ZoneRow } from '../ui/zones.js';

export async function ps(opts: LoadOptions & HostOptions): Promise<ZoneRow[]> {
  const { desired } = loadConfig(opts);
  const host = await createHost(opts);
  const actual = await observe(host, desired.project, { nft: false });
  return Object.values(actual.zones).map((z) => ({
    name: z.name,
    state: z.state === 'exited' ? `exited(${z.exit_code ?? '?'})` : z.state,
    pid: z.pid,
    exit_code: z.exit_code,
    started_at: z.started_at,
    addresses: Object.fromEntries(Object.entries(z.networks).map(([n, a]) => [n, a.address])),
    limits: z.limits ? limitsView(z.limits) : null,
  }));
}
