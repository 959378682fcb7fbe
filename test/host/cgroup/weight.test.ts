import { describe, expect, it } from 'vitest';
import { bfqWeightOfIoWeight, cfqWeightOfIoWeight, ioWeightOfCfqWeight, sharesOfWeight, weightOfShares } from '../../../src/host/cgroup/weight.js';

describe('cpu.shares ↔ cpu.weight', () => {
  it('keeps the defaults equal: weight 100 is 1024 shares', () => {
    expect(sharesOfWeight(100)).toBe(1024);
    expect(weightOfShares(1024)).toBe(100);
  });

  it('round-trips every weight 1..10000 exactly', () => {
    for (let w = 1; w <= 10_000; w++) expect(weightOfShares(sharesOfWeight(w))).toBe(w);
  });

  it('maps the ends and shares set by hand to the nearest weight', () => {
    expect(sharesOfWeight(1)).toBe(10);
    expect(sharesOfWeight(10_000)).toBe(102_400);
    expect(weightOfShares(2)).toBe(1);
    expect(weightOfShares(262_144)).toBe(10_000);
    expect(weightOfShares(512)).toBe(50);
  });
});

describe('io.weight ↔ blkio weights', () => {
  it('BFQ shares the scale up to 1000', () => {
    expect(bfqWeightOfIoWeight(100)).toBe(100);
    expect(bfqWeightOfIoWeight(5000)).toBe(1000);
  });
  it('CFQ maps 100 to its default 500, clamped to 10..1000', () => {
    expect(cfqWeightOfIoWeight(100)).toBe(500);
    expect(cfqWeightOfIoWeight(1)).toBe(10);
    expect(cfqWeightOfIoWeight(300)).toBe(1000);
    expect(ioWeightOfCfqWeight(500)).toBe(100);
  });
});
