// Where a zone's files live. Everything is under zonectl's own names:
//   RUN/PROJECT/zones/ZONE/helper.spec   the helper's spec (spec.ts), for start and exec
//   RUN/PROJECT/zones/ZONE/state         the supervisor's record (record.ts)
//   RUN/PROJECT/zones/ZONE/stop_grace_ms the grace period of a stop in progress
//   RUN/PROJECT/zones/ZONE/root          the mount point the zone's root is assembled on
//                                        (mounted only inside the zone's mount namespace)
//   LIB/images/SHA256                    unpacked images, shared, never written to
//   LIB/projects/PROJECT/zones/ZONE/{upper,work}-KEY   the copy-on-write layer per root
//                                        (KEY ends in -userns for privileges.userns: its files
//                                        belong to the zone's own host ids)
//   LIB/userns                           host id ranges of userns zones (idmap.ts)
//   LIB/projects/PROJECT/zones/ZONE/zone.log[.N]       the zone's output, rotated
// Flat on purpose: each directory is an inode to allocate at every first start (on a journal-
// less ext4 a costly one, bench/RESULTS.md), and overlayfs makes its own in work-KEY.
import { hash64Hex } from '../../model/hash.js';
import { resolve } from 'node:path';

import type { Root } from '../../model/types.js';
import { DEFAULT_LIB_DIR, DEFAULT_RUN_DIR } from '../dirs.js';

export { DEFAULT_LIB_DIR, DEFAULT_RUN_DIR };


export class ZonePaths {
  /** runDir and libDir, normalised once: the paths below are plain concatenations (project and zone names are validated single path components; join() normalises each time, ~0.1 ms a zone). */
  private readonly run: string;
  private readonly lib: string;

  constructor(
    readonly runDir: string = DEFAULT_RUN_DIR,
    readonly libDir: string = DEFAULT_LIB_DIR,
  ) {
    this.run = resolve(runDir);
    this.lib = resolve(libDir);
  }

  projectRun(project: string): string {
    return `${this.run}/${project}`;
  }
  zoneRun(project: string, zone: string): string {
    return `${this.run}/${project}/zones/${zone}`;
  }
  spec(project: string, zone: string): string {
    return `${this.zoneRun(project, zone)}/helper.spec`;
  }
  record(project: string, zone: string): string {
    return `${this.zoneRun(project, zone)}/state`;
  }
  rootfs(project: string, zone: string): string {
    return `${this.zoneRun(project, zone)}/root`;
  }
  images(): string {
    return `${this.lib}/images`;
  }
  zoneLib(project: string, zone: string): string {
    return `${this.lib}/projects/${project}/zones/${zone}`;
  }
  /** One layer per root, so that a zone whose root changed never sees another root's writes. */
  layer(project: string, zone: string, root: Root, imageDigest?: string, userns = false): { upper: string; work: string } {
    const key =
      root.kind === 'sparse' ? 'sparse'
      : root.kind === 'path' ? `path-${hash64Hex(root.path)}`
      : `image-${(imageDigest ?? '').slice(0, 16)}`;
    const suffix = `${key}${userns ? '-userns' : ''}`;
    const dir = this.zoneLib(project, zone);
    return { upper: `${dir}/upper-${suffix}`, work: `${dir}/work-${suffix}` };
  }
  log(project: string, zone: string): string {
    return `${this.zoneLib(project, zone)}/zone.log`;
  }
}
