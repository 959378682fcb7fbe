// DesiredState → the resolved file (what `zonectl config` prints): the same key names as
// zones.yaml, units normalised to numbers (bytes, CPUs, bits/s, milliseconds), a cleared
// limit as null, every default filled in.

import type { DesiredState } from '../model/types.js';
import { limitsView, zoneView } from '../model/view.js';

export function resolvedConfig(d: DesiredState): Record<string, unknown> {
  return {
    name: d.project,
    global: { limits: limitsView(d.global.limits) },
    networks: Object.fromEntries(Object.values(d.networks).map(({ name, ...n }) => [name, n])),
    zones: Object.fromEntries(Object.values(d.zones).map((z) => [z.name, zoneView(z)])),
  };
}
