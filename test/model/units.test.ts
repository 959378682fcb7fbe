import { describe, expect, it } from 'vitest';
import { formatCpuset, formatDuration, formatRate, formatSize, parseCpus, parseCpuset, parseDuration, parseRate, parseSize, UnitError } from '../../src/model/units.js';

describe('units', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['64k', 65536],
    ['512MiB', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    [1048576, 1048576],
    ['100', 100],
  ])('parses size %s', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it('clears a size with max or null', () => {
    expect(parseSize('max')).toBeNull();
    expect(parseSize(null)).toBeNull();
  });

  it.each(['12 apples', '-1', '1.5', 'M'])('refuses size %s', (text) => {
    expect(() => parseSize(text === '1.5' ? 1.5 : text)).toThrow(UnitError);
  });

  it('parses rates in decimal bits per second', () => {
    expect(parseRate('20mbit')).toBe(20_000_000);
    expect(parseRate('1.5gbit')).toBe(1_500_000_000);
    expect(parseRate('800kbit')).toBe(800_000);
    expect(() => parseRate('20 furlongs')).toThrow(UnitError);
  });

  it('parses durations', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(() => parseDuration('10')).toThrow(UnitError);
  });

  it('turns CPUs into quota and period', () => {
    expect(parseCpus(0.5)).toEqual({ quota_us: 50_000, period_us: 100_000 });
    expect(parseCpus(1.5)).toEqual({ quota_us: 150_000, period_us: 100_000 });
    expect(parseCpus('max')).toBeNull();
    expect(() => parseCpus(0.001)).toThrow(/minimum/);
  });

  it('parses and formats cpusets like the kernel', () => {
    expect(parseCpuset('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuset(3)).toEqual([3]);
    expect(() => parseCpuset('3-1')).toThrow(/backwards/);
    expect(formatCpuset([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
  });

  it('formats for people', () => {
    expect(formatSize(268435456)).toBe('256M');
    expect(formatSize(1000)).toBe('1000');
    expect(formatRate(20_000_000)).toBe('20mbit');
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});
