// Weight conversions between the model (cgroup v2 units) and cgroup v1 files. Pure.
//
// cpu_weight (v2 cpu.weight, 1..10000, default 100) ↔ v1 cpu.shares (2..262144, default 1024):
//   shares = round(weight * 1024 / 100), weight = round(shares * 100 / 1024)
// This is systemd's mapping: it keeps the defaults equal (100 ↔ 1024), so a zone at the
// default weight competes evenly with the host's other v1 cgroups, which sit at 1024 shares.
// (runc/crun map 2..262144 linearly onto 1..10000 instead, which turns the default 1024 into
// weight 39 and the default weight 100 into 2597 shares: 2.5× a default host cgroup.)
// One weight step is 10.24 shares, so weight → shares → weight is exact for every weight;
// shares set by hand read back as the nearest weight.
//
// io.weight (1..10000, default 100) ↔ v1 blkio.bfq.weight (1..1000, default 100): the same
// scale, clamped to 1000. On kernels before 5.0 with CFQ's blkio.weight (10..1000, default
// 500): blkio = clamp(weight * 5, 10, 1000), weight = round(blkio / 5).

export const CPU_SHARES_DEFAULT = 1024;
export const CPU_SHARES_MIN = 2;
export const CPU_SHARES_MAX = 262_144;

export function sharesOfWeight(weight: number): number {
  return Math.min(CPU_SHARES_MAX, Math.max(CPU_SHARES_MIN, Math.round((weight * CPU_SHARES_DEFAULT) / 100)));
}

export function weightOfShares(shares: number): number {
  return Math.min(10_000, Math.max(1, Math.round((shares * 100) / CPU_SHARES_DEFAULT)));
}

export function bfqWeightOfIoWeight(weight: number): number {
  return Math.min(1000, Math.max(1, weight));
}

export function cfqWeightOfIoWeight(weight: number): number {
  return Math.min(1000, Math.max(10, weight * 5));
}

export function ioWeightOfCfqWeight(blkio: number): number {
  return Math.max(1, Math.round(blkio / 5));
}
