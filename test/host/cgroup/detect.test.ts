import { describe, expect, it } from 'vitest';
import { detectCgroupLayout, rebaseLayout } from '../../../src/host/cgroup/detect.js';
import { HostError } from '../../../src/host/errors.js';

const UNIFIED = `
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
25 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

/** This machine: v1 controllers, one per hierarchy, plus an empty cgroup2 at /sys/fs/cgroup/unified. */
const HYBRID = `
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A classic systemd legacy host: co-mounted cpu,cpuacct and net_cls,net_prio, no cgroup2. */
const LEGACY = `
25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
27 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_cls,net_prio
32 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
33 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
34 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset
35 25 0:31 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,blkio
36 25 0:32 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,freezer
`;

describe('detectCgroupLayout', () => {
  it('finds a unified host', () => {
    expect(detectCgroupLayout(UNIFIED)).toEqual({ mode: 'unified', unified: '/sys/fs/cgroup' });
  });

  it('uses v1 on a hybrid host whose cgroup2 holds no controller (this machine; crun refuses it)', () => {
    expect(detectCgroupLayout(HYBRID)).toEqual({
      mode: 'hybrid',
      unified: '/sys/fs/cgroup/unified',
      v1: {
        cpu: '/sys/fs/cgroup/cpu',
        cpuacct: '/sys/fs/cgroup/cpuacct',
        cpuset: '/sys/fs/cgroup/cpuset',
        memory: '/sys/fs/cgroup/memory',
        freezer: '/sys/fs/cgroup/freezer',
        blkio: '/sys/fs/cgroup/blkio',
        pids: '/sys/fs/cgroup/pids',
      },
      named: ['/sys/fs/cgroup/systemd'],
    });
  });

  it('finds a legacy host with co-mounted controllers; name=systemd and net_cls are not controllers of ours', () => {
    const layout = detectCgroupLayout(LEGACY);
    expect(layout.mode).toBe('legacy');
    if (layout.mode === 'unified') throw new Error('unreachable');
    expect(layout.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.unified).toBeNull();
    expect(Object.keys(layout.v1).sort()).toEqual(['blkio', 'cpu', 'cpuacct', 'cpuset', 'freezer', 'memory', 'pids']);
    expect(layout.named).toEqual(['/sys/fs/cgroup/systemd']);
  });

  it('names each named hierarchy once, and none that holds a controller of ours (those are in v1)', () => {
    const more = `${LEGACY}37 25 0:23 / /run/again rw - cgroup cgroup rw,xattr,name=systemd
38 25 0:33 / /sys/fs/cgroup/elogind rw - cgroup cgroup rw,name=elogind
39 25 0:34 / /sys/fs/cgroup/mine rw - cgroup cgroup rw,hugetlb,name=mine
`;
    const layout = detectCgroupLayout(more);
    expect(layout.mode !== 'unified' && layout.named).toEqual(['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/elogind', '/sys/fs/cgroup/mine']);
    const ours = detectCgroupLayout('30 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct,name=ours\n');
    expect(ours.mode !== 'unified' && [ours.v1.cpu, ours.named]).toEqual(['/sys/fs/cgroup/cpu', []]);
  });

  it('decodes escaped mount points', () => {
    const layout = detectCgroupLayout('30 23 0:26 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n');
    expect(layout).toEqual({ mode: 'unified', unified: '/mnt/my cgroup' });
  });

  it('fails clearly without any cgroup mount', () => {
    expect(() => detectCgroupLayout('22 1 254:0 / / rw - ext4 /dev/vda rw\n')).toThrow(HostError);
    expect(() => detectCgroupLayout('')).toThrow(/no cgroup filesystem is mounted/);
  });

  it('rebases a layout under a test root', () => {
    expect(rebaseLayout(detectCgroupLayout(UNIFIED), '/tmp/t')).toEqual({ mode: 'unified', unified: '/tmp/t' });
    const v1 = rebaseLayout(detectCgroupLayout(LEGACY), '/tmp/t');
    if (v1.mode === 'unified') throw new Error('unreachable');
    expect(v1.v1.cpu).toBe('/tmp/t/cpu,cpuacct');
    expect(v1.v1.memory).toBe('/tmp/t/memory');
    const hybrid = rebaseLayout(detectCgroupLayout(HYBRID), '/tmp/t');
    expect(hybrid.mode === 'hybrid' && hybrid.unified).toBe('/tmp/t/unified');
    expect(hybrid.mode === 'hybrid' && hybrid.named).toEqual(['/tmp/t/systemd']);
  });
});
