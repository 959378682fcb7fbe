// Merging located trees: maps merge key by key, everything else (lists, scalars, null)
// is replaced by the later value, as Compose does for override files.

import type { LMap, LNode } from './source.js';

export function mergeNodes(base: LNode | undefined, over: LNode): LNode {
  if (base?.kind !== 'map' || over.kind !== 'map') return over;
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { keyLoc: e.keyLoc, value: mergeNodes(prev.value, e.value) } : e);
  }
  return { kind: 'map', loc: over.loc, entries } satisfies LMap;
}
