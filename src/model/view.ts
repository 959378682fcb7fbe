// Model values as users write and read them: the shapes of `config --json` and of plan
// JSON (CPUs as a number, cpusets as the kernel's list, restart as text), and the short
// human forms used in plan text (256M, 0.5, 20mbit, 1m30s).

import type { Limits, RestartPolicy, Root, Zone } from './types.js';
import { cpusOf, formatCpuset, formatDuration, formatRate, formatSize } from './units.js';

export function limitsView(l: Limits): Record<string, unknown> {
  return { ...l, cpus: l.cpus ? cpusOf(l.cpus) : null, cpuset: l.cpuset ? formatCpuset(l.cpuset) : null };
}

export function rootView(r: Root): unknown {
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

/** A zone without its name (the name is the key it is listed under). */
export function zoneView({ name: _name, ...z }: Zone): Record<string, unknown> {
  return { ...z, root: rootView(z.root), limits: limitsView(z.limits), restart: restartView(z.restart) };
}

export function restartView(r: RestartPolicy): string {
  return r.policy === 'on-failure' && r.max_retries !== null ? `on-failure:${r.max_retries}` : r.policy;
}

/** A field's value in user units for JSON, by its dotted path (`limits.cpus`, `root`). */
export function fieldView(path: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const leaf = path.split('.').at(-1);
  if (path === 'limits' || path.endsWith('.limits')) return limitsView(v as Limits);
  if (leaf === 'cpus' && typeof v === 'object') return cpusOf(v as { quota_us: number; period_us: number });
  if (leaf === 'cpuset' && Array.isArray(v)) return formatCpuset(v as number[]);
  if (leaf === 'root') return rootView(v as Root);
  if (leaf === 'restart') return restartView(v as RestartPolicy);
  return v;
}

const SIZE_FIELDS = new Set(['memory', 'memory_swap', 'memory_reservation', 'read_bps', 'write_bps', 'size']);

/** A field's value in short human form for plan text. */
export function fieldText(path: string, v: unknown): string {
  const leaf = path.split('.').at(-1) ?? path;
  if (v === null || v === undefined) return leaf === 'address' || path.startsWith('networks.') ? '(none)' : 'max';
  if (SIZE_FIELDS.has(leaf) && typeof v === 'number') return formatSize(v);
  if (leaf === 'stop_grace_period' && typeof v === 'number') return formatDuration(v);
  if (leaf === 'ingress' || leaf === 'egress') return typeof v === 'number' ? formatRate(v) : 'max';
  if (leaf === 'bandwidth' && typeof v === 'object') {
    const b = v as { ingress: number | null; egress: number | null };
    return b.ingress === b.egress ? formatRate(b.ingress) : `{ ingress: ${formatRate(b.ingress)}, egress: ${formatRate(b.egress)} }`;
  }
  const view = fieldView(path, v);
  return typeof view === 'string' ? view : JSON.stringify(view);
}
