// Which cgroup layout the host runs, read from a mount table (/proc/self/mountinfo).
//
// - unified: one cgroup2 hierarchy holds every controller.
// - legacy: cgroup v1 only, one hierarchy per controller (or per group of co-mounted ones).
// - hybrid: v1 controller hierarchies plus a cgroup2 mount (systemd's /sys/fs/cgroup/unified)
//   that holds no controller: the controllers live in v1, so zonectl uses v1. crun refuses
//   this layout; zonectl must not.

import { dirname, join, relative, sep } from 'node:path';
import { HostError } from '../errors.js';

/** The v1 hierarchies zonectl uses: the limit controllers, plus freezer to stop a zone for kill. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export type CgroupLayout =
  | { mode: 'unified'; unified: string }
  | {
      mode: 'legacy' | 'hybrid';
      /** Mount point of each controller's hierarchy; co-mounted controllers share one. */
      v1: Partial<Record<V1Controller, string>>;
      /** The (controller-less) cgroup2 mount of a hybrid host. */
      unified: string | null;
      /**
       * Named v1 hierarchies that hold none of zonectl's controllers (`name=systemd`,
       * `name=elogind`): where an init tracks the processes of its services and sessions.
       */
      named: string[];
    };

interface MountLine {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function parseMountLine(line: string): MountLine | null {
  // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
  const fields = line.trim().split(' ');
  const dash = fields.indexOf('-');
  if (dash < 6 || fields.length < dash + 4) return null;
  return {
    mountPoint: unescapeMount(fields[4]!),
    fsType: fields[dash + 1]!,
    superOptions: fields[dash + 3]!.split(','),
  };
}

/** The layout described by a mountinfo text. Throws when no cgroup filesystem is mounted. */
export function detectCgroupLayout(mountinfo: string): CgroupLayout {
  const v1: Partial<Record<V1Controller, string>> = {};
  let unified: string | null = null;
  const named = new Map<string, string>(); // name=X → its first mount point
  for (const line of mountinfo.split('\n')) {
    if (line.trim() === '') continue;
    const m = parseMountLine(line);
    if (m === null) continue;
    if (m.fsType === 'cgroup2') {
      unified ??= m.mountPoint;
    } else if (m.fsType === 'cgroup') {
      const controllers = V1_CONTROLLERS.filter((c) => m.superOptions.includes(c));
      for (const c of controllers) v1[c] ??= m.mountPoint;
      const name = m.superOptions.find((o) => o.startsWith('name='));
      if (controllers.length === 0 && name !== undefined && !named.has(name)) named.set(name, m.mountPoint);
    }
  }
  const hasV1Controller = V1_CONTROLLERS.some((c) => c !== 'freezer' && v1[c] !== undefined);
  if (hasV1Controller) return { mode: unified === null ? 'legacy' : 'hybrid', v1, unified, named: [...named.values()] };
  if (unified !== null) return { mode: 'unified', unified };
  throw new HostError('no cgroup filesystem is mounted (neither cgroup2 nor a v1 controller hierarchy in the mount table)');
}

/**
 * Where systemd tracks its units on a v1 layout, by killing what is left in a unit's cgroup
 * there when it stops: a hybrid host's cgroup2 hierarchy (from v233 on; its name=systemd is a
 * copy kept for older tools), else the named ones (name=systemd; elogind's name=elogind).
 */
export function serviceHierarchies(layout: { named: readonly string[]; unified: string | null }): string[] {
  return layout.unified === null ? [...layout.named] : [layout.unified];
}

/** The deepest directory containing every path. */
function commonBase(paths: readonly string[]): string {
  let base = dirname(paths[0]!);
  while (!paths.every((p) => p === base || p.startsWith(base.endsWith(sep) ? base : base + sep))) base = dirname(base);
  return base;
}

/**
 * The same layout moved under `root` (tests, `--cgroup-root`): a unified mount becomes `root`;
 * v1 mounts keep their place relative to their common parent (`/sys/fs/cgroup/memory` →
 * `ROOT/memory`).
 */
export function rebaseLayout(layout: CgroupLayout, root: string): CgroupLayout {
  if (layout.mode === 'unified') return { mode: 'unified', unified: root };
  const mounts = Object.values(layout.v1);
  const base = commonBase(mounts);
  const v1: Partial<Record<V1Controller, string>> = {};
  for (const [c, p] of Object.entries(layout.v1) as [V1Controller, string][]) v1[c] = join(root, relative(base, p));
  const unified = layout.unified === null ? null : join(root, relative(base, layout.unified));
  return { mode: layout.mode, v1, unified, named: layout.named.map((p) => join(root, relative(base, p))) };
}
