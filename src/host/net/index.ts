// The network driver's one factory, and what callers need beside it.

import type { NetDriver } from './driver.js';
import { KernelNetDriver } from './kernel.js';
import { NftTables } from './nft.js';

export type { NetDriver, NetObservation, ObservedNetwork, ProjectRules, ResolvedAttachment } from './driver.js';
export { FakeNetDriver, type FakeNetCall } from './fake.js';
export { hostsFiles } from './hosts.js';
export { renderRules, tableName } from './nft.js';
export { canonicalBandwidth, canonicalRate } from './shaping.js';

/** `runDir`: where the projects' run directories are (default /run/zonectl). */
export function createNetDriver(opts: { runDir?: string } = {}): NetDriver {
  return new KernelNetDriver({ nft: new NftTables(opts) });
}
