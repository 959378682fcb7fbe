// cgroup v1 driver on a fake tree: exact files and values written in every hierarchy, the
// memory/memsw ordering, cpuset inheritance, and the honest outcomes.

import { afterEach, describe, expect, it } from 'vitest';
import type { FakeSetup } from './fixtures.js';
import { fakeDriver, limits, MiB, neutral } from './fixtures.js';

let setups: FakeSetup[] = [];

async function ready(options: Parameters<typeof fakeDriver>[0] = { version: 1 }): Promise<FakeSetup> {
  const s = await fakeDriver(options);
  setups.push(s);
  await s.driver.ensureProject('shop', neutral());
  await s.driver.create('shop', 'web');
  s.fake.writes.length = 0;
  return s;
}

afterEach(() => {
  for (const s of setups) s.fake.dispose();
  setups = [];
});

const z = (controller: string, file: string): string => `${controller}/zonectl/shop/web/${file}`;

describe('cgroup v1 driver', () => {
  it('creates zonectl/PROJECT/ZONE in every hierarchy; below zonectl/ the kernel fills each new cpuset (clone_children)', async () => {
    const s = await fakeDriver({ version: 1, cpus: '0-3' });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    await s.driver.create('shop', 'web');
    await s.driver.create('shop', 'api');
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer']) expect(await s.fake.exists(s.fake.path(`${h}/zonectl/shop/web`))).toBe(true);
    // zonectl/ is copied from the hierarchy's root (whose flag is not zonectl's), and set to clone
    expect(s.fake.writesUnder('cpuset/').filter((w) => /\.(cpus|mems)$|clone_children$/.test(w.path))).toEqual([
      { path: 'cpuset/zonectl/cpuset.cpus', value: '0-3' },
      { path: 'cpuset/zonectl/cpuset.mems', value: '0' },
      { path: 'cpuset/zonectl/cgroup.clone_children', value: '1' },
    ]);
    for (const dir of ['shop', 'shop/web', 'shop/api']) {
      expect(s.fake.get(`cpuset/zonectl/${dir}/cpuset.cpus`), dir).toBe('0-3');
      expect(s.fake.get(`cpuset/zonectl/${dir}/cpuset.mems`), dir).toBe('0');
    }
    // the flag is looked at once (zonectl/), and a project made under it is known to have it
    expect(s.fake.reads.filter((r) => r.endsWith('clone_children'))).toEqual(['cpuset/zonectl/cgroup.clone_children']);
  });

  it('sets clone_children once on a project made without it (an older zonectl), then lets the kernel fill its zones', async () => {
    const s = await fakeDriver({ version: 1, cpus: '0-3' });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    await s.fake.write(s.fake.path('cpuset/zonectl/shop/cgroup.clone_children'), '0');
    const again = await fakeDriver({ version: 1, cpus: '0-3' }, s.fake); // the next run
    await again.driver.create('shop', 'web');
    await again.driver.create('shop', 'api');
    expect(s.fake.get('cpuset/zonectl/shop/cgroup.clone_children')).toBe('1');
    expect(s.fake.get('cpuset/zonectl/shop/api/cpuset.cpus')).toBe('0-3');
    expect(s.fake.get('cpuset/zonectl/shop/web/cpuset.cpus')).toBe('0-3');
    expect(s.fake.writesUnder('cpuset/zonectl/shop/').filter((w) => /\.(cpus|mems)$/.test(w.path))).toEqual([]);
  });

  it('creates a zone in a hierarchy that lacks zonectl\'s own levels (an up killed inside ensureProject)', async () => {
    const s = await fakeDriver({ version: 1, cpus: '0-3' });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    // as if killed after the other hierarchies: pids has neither zonectl/shop nor zonectl
    await s.fake.rmdir(s.fake.path('pids/zonectl/shop'));
    await s.fake.rmdir(s.fake.path('pids/zonectl'));
    await s.driver.create('shop', 'web');
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer']) expect(await s.fake.exists(s.fake.path(`${h}/zonectl/shop/web`))).toBe(true);
  });

  it("keeps the project's zones and supervisors in zonectl/PROJECT where systemd tracks units (a hybrid host's cgroup2), made once a run, even after an up killed before it", async () => {
    const s = await fakeDriver({ version: 1, tracking: ['systemd', 'unified'] });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    const files = await s.driver.create('shop', 'web');
    const procs = s.fake.path('unified/zonectl/shop/cgroup.procs');
    expect(files).toContain(procs); // one level for the project, none for each zone
    expect(await s.fake.exists(s.fake.path('unified/zonectl/shop'))).toBe(true); // made with the first zone, for the run
    expect(await s.driver.supervisors('shop')).toEqual([procs]);
    expect(await s.fake.exists(s.fake.path('unified/zonectl/shop/web'))).toBe(false);
    for (const h of ['systemd', 'pids']) expect(await s.fake.exists(s.fake.path(`${h}/zonectl/shop.supervisors`))).toBe(false); // name=systemd: its copy for older tools
    expect(await s.fake.exists(s.fake.path('systemd/zonectl'))).toBe(false);
    // a project left there alone (an up killed after it): listed, and removed with what is in it
    await s.driver.remove('shop', 'web');
    await s.driver.removeProject('shop');
    await s.driver.supervisors('shop');
    await s.fake.write(procs, '4242');
    expect(await s.driver.projects()).toEqual(['shop']);
    await s.driver.removeProject('shop'); // the fake refuses to remove a cgroup that holds a process: 4242 was killed
    for (const h of ['systemd', 'unified', 'pids']) expect(await s.fake.exists(s.fake.path(`${h}/zonectl`))).toBe(false);
  });

  it('writes every limit the fresh cgroup does not already hold to its file in its hierarchy, in order, with v1 syntax', async () => {
    const { fake, driver } = await ready();
    const report = await driver.apply('shop', 'web', {
      cpus: { quota_us: 50_000, period_us: 100_000 },
      cpu_weight: 150,
      cpuset: [1, 2, 3],
      memory: 256 * MiB,
      memory_swap: 0,
      memory_reservation: 64 * MiB,
      pids: 64,
      io: { weight: 200, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: 100 } } },
    });
    expect(report.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    // not written, already held: the default period (100000), and no limit on the device's
    // write_bps and read_iops
    expect(fake.writes).toEqual([
      { path: z('cpu', 'cpu.cfs_quota_us'), value: '50000' },
      { path: z('cpu', 'cpu.shares'), value: '1536' },
      { path: z('cpuset', 'cpuset.cpus'), value: '1-3' },
      // from unlimited: the limit comes down first, then memsw to memory + swap
      { path: z('memory', 'memory.limit_in_bytes'), value: '268435456' },
      { path: z('memory', 'memory.memsw.limit_in_bytes'), value: '268435456' },
      { path: z('memory', 'memory.soft_limit_in_bytes'), value: '67108864' },
      { path: z('pids', 'pids.max'), value: '64' },
      { path: z('blkio', 'blkio.bfq.weight'), value: '200' },
      { path: z('blkio', 'blkio.throttle.read_bps_device'), value: '254:0 1048576' },
      { path: z('blkio', 'blkio.throttle.write_iops_device'), value: '254:0 100' },
    ]);
  });

  it('writes nothing when the kernel already holds every limit, and still reports each applied', async () => {
    const { fake, driver } = await ready();
    const l = limits({ cpus: { quota_us: 50_000, period_us: 100_000 }, cpuset: [1], memory: 256 * MiB, memory_reservation: 64 * MiB, pids: 64, io: { weight: 200, devices: { '/dev/vda': { read_bps: MiB, write_bps: null, read_iops: null, write_iops: null } } } });
    const first = await driver.apply('shop', 'web', l);
    fake.writes.length = 0;
    const again = await driver.apply('shop', 'web', l);
    expect(fake.writes).toEqual([]);
    const byLimit = (os: typeof first.outcomes) => [...os].sort((a, b) => a.limit.localeCompare(b.limit));
    expect(byLimit(again.outcomes)).toEqual(byLimit(first.outcomes)); // memsw and limit swap order: v1 writes the growing one first
    expect(again.outcomes.every((o) => o.status === 'applied')).toBe(true);
  });

  it('reads no file of a neutral limit in a cgroup it has just made, and every file once it has applied to it', async () => {
    const { fake, driver } = await ready();
    const neutralFiles = [z('cpu', 'cpu.cfs_quota_us'), z('cpu', 'cpu.shares'), z('memory', 'memory.limit_in_bytes'), z('memory', 'memory.memsw.limit_in_bytes'), z('memory', 'memory.soft_limit_in_bytes'), z('blkio', 'blkio.throttle.read_bps_device')];
    fake.reads.length = 0;
    await driver.apply('shop', 'web', limits({ pids: 64 }));
    expect(neutralFiles.filter((f) => fake.reads.includes(f))).toEqual([]);
    expect(fake.reads).toContain(z('pids', 'pids.max'));
    // the kernel's value is what counts from now on: a neutral limit changed behind zonectl's back is put back
    await fake.write(fake.path(z('cpu', 'cpu.shares')), '2048');
    fake.reads.length = 0;
    await driver.apply('shop', 'web', limits({ pids: 64 }));
    expect(neutralFiles.filter((f) => !fake.reads.includes(f))).toEqual([]);
    expect(fake.get(z('cpu', 'cpu.shares'))).toBe('1024');
  });

  it('writes each limit of a cgroup it has just made without reading it first, and looks for each control file once a run', async () => {
    const { fake, driver } = await ready();
    fake.reads.length = 0;
    const l = limits({ cpus: { quota_us: 50_000, period_us: 100_000 }, memory: 256 * MiB, pids: 64 });
    const report = await driver.apply('shop', 'web', l);
    expect(report.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    // only the writes' read-backs: no default read first, no cpuset, weight or period read
    expect(fake.reads.sort()).toEqual([z('cpu', 'cpu.cfs_quota_us'), z('memory', 'memory.limit_in_bytes'), z('memory', 'memory.memsw.limit_in_bytes'), z('pids', 'pids.max')].sort());
    expect(fake.writes.map((w) => w.path)).toEqual([z('cpu', 'cpu.cfs_quota_us'), z('memory', 'memory.limit_in_bytes'), z('memory', 'memory.memsw.limit_in_bytes'), z('pids', 'pids.max')]);
    // a second zone: the same files are known to be there
    await driver.create('shop', 'api');
    fake.stats.length = 0;
    expect((await driver.apply('shop', 'api', l)).outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    expect(fake.stats).toEqual([]);
    expect(fake.get('pids/zonectl/shop/api/pids.max')).toBe('64');
    // once applied to, a cgroup is read first again
    fake.reads.length = 0;
    fake.writes.length = 0;
    await driver.apply('shop', 'api', l);
    expect(fake.writes).toEqual([]);
    expect(fake.reads).toContain('pids/zonectl/shop/api/pids.max');
  });

  it('reads no limit file of a project it has just made when the global zone has no limits', async () => {
    const s = await fakeDriver({ version: 1 });
    setups.push(s);
    await s.driver.ensureProject('shop', neutral());
    const project = ['cpu.cfs_quota_us', 'cpu.shares', 'memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'pids.max'];
    expect(s.fake.reads.filter((r) => project.some((f) => r.endsWith(`zonectl/shop/${f}`)))).toEqual([]);
  });

  it('raises memsw before the limit, and lowers the limit before memsw', async () => {
    const { fake, driver } = await ready();
    await driver.apply('shop', 'web', limits({ memory: 256 * MiB }));
    const memoryWrites = (): string[] => fake.writesUnder('memory/').filter((w) => !w.path.endsWith('soft_limit_in_bytes')).map((w) => `${w.path.split('/').pop()}=${w.value}`);
    fake.writes.length = 0;
    await driver.apply('shop', 'web', limits({ memory: 512 * MiB, memory_swap: 64 * MiB }));
    expect(memoryWrites()).toEqual(['memory.memsw.limit_in_bytes=603979776', 'memory.limit_in_bytes=536870912']);
    fake.writes.length = 0;
    await driver.apply('shop', 'web', limits({ memory: 128 * MiB }));
    expect(memoryWrites()).toEqual(['memory.limit_in_bytes=134217728', 'memory.memsw.limit_in_bytes=134217728']);
    fake.writes.length = 0;
    await driver.apply('shop', 'web', neutral());
    expect(memoryWrites()).toEqual(['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
    expect(fake.get(z('memory', 'memory.limit_in_bytes'))).toBe('9223372036854771712');
  });

  it('retries a limit below usage (EBUSY) with the value staged in soft_limit, then restores the reservation', async () => {
    const { fake, driver } = await ready();
    await driver.apply('shop', 'web', neutral()); // a running zone's cgroup (a fresh one has no usage)
    fake.writes.length = 0;
    fake.set(z('memory', 'memory.usage_in_bytes'), String(300 * MiB));
    fake.onWrite = (path, value) => {
      if (path.endsWith('soft_limit_in_bytes') && value === String(256 * MiB)) fake.set(z('memory', 'memory.usage_in_bytes'), String(200 * MiB));
    };
    const report = await driver.apply('shop', 'web', limits({ memory: 256 * MiB, memory_reservation: 128 * MiB }));
    expect(report.outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
    expect(fake.writesUnder('memory/').map((w) => `${w.path.split('/').pop()}=${w.value}`)).toEqual([
      'memory.limit_in_bytes=268435456', // EBUSY
      'memory.soft_limit_in_bytes=268435456', // staged
      'memory.limit_in_bytes=268435456',
      'memory.soft_limit_in_bytes=134217728', // the reservation restored
      'memory.memsw.limit_in_bytes=268435456',
      // the reservation is not written again: the file already holds it
    ]);
  });

  it('defers a shrink the kernel cannot reclaim to, with memsw waiting for it', async () => {
    const { fake, driver } = await ready({ version: 1, reclaimTimeoutMs: 100 });
    await driver.apply('shop', 'web', limits({ memory: 512 * MiB }));
    fake.set(z('memory', 'memory.usage_in_bytes'), String(300 * MiB));
    const report = await driver.apply('shop', 'web', limits({ memory: 256 * MiB }));
    const memory = report.outcomes.find((o) => o.limit === 'memory');
    expect(memory?.status).toBe('deferred');
    expect(memory?.reason).toBe(`write 268435456 to ${fake.path(z('memory', 'memory.limit_in_bytes'))}: EBUSY: usage 314572800 is above 268435456 after 100 ms of reclaim`);
    expect(report.outcomes.find((o) => o.limit === 'memory_swap')?.status).toBe('deferred');
    expect(fake.get(z('memory', 'memory.limit_in_bytes'))).toBe(String(512 * MiB));
    expect(fake.get(z('memory', 'memory.soft_limit_in_bytes'))).toBe('9223372036854771712');
  });

  it('without memsw files: swap on top is infeasible, naming the file and the boot option', async () => {
    const { driver, fake } = await ready({ version: 1, swapAccounting: false, hostHasSwap: true });
    const o = (await driver.apply('shop', 'web', limits({ memory: 64 * MiB, memory_swap: 32 * MiB }))).outcomes.find((x) => x.limit === 'memory_swap');
    expect(o).toMatchObject({ status: 'infeasible', reason: `swap accounting is not available here: ${fake.path(z('memory', 'memory.memsw.limit_in_bytes'))} is absent (boot with swapaccount=1)` });
    expect((await driver.read('shop', 'web')).memory_swap).toBeNull();
    expect(driver.canonical(limits({ memory: 64 * MiB })).memory_swap).toBeNull();
  });

  it('reports a controller that is not mounted as infeasible, neutral values as applied', async () => {
    const { driver } = await ready({ version: 1, hierarchies: ['cpu', 'cpuacct', 'cpuset', 'memory', 'freezer'] });
    const report = await driver.apply('shop', 'web', limits({ pids: 64, io: { weight: 300, devices: {} } }));
    expect(report.outcomes.find((o) => o.limit === 'pids')).toMatchObject({ status: 'infeasible', reason: 'controller pids is not mounted (no cgroup v1 hierarchy for it)' });
    expect(report.outcomes.find((o) => o.limit === 'io.weight')?.status).toBe('infeasible');
    expect((await driver.apply('shop', 'web', neutral())).outcomes.filter((o) => o.status !== 'applied')).toEqual([]);
  });

  it('works with co-mounted cpu,cpuacct', async () => {
    const { driver, fake } = await ready({ version: 1, hierarchies: ['cpu,cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'freezer'] });
    await driver.apply('shop', 'web', limits({ cpus: { quota_us: 25_000, period_us: 100_000 } }));
    expect(fake.get('cpu,cpuacct/zonectl/shop/web/cpu.cfs_quota_us')).toBe('25000');
    fake.set('cpu,cpuacct/zonectl/shop/web/cpuacct.usage', '123456');
    expect((await driver.usage('shop', 'web')).cpu.usage_ns).toBe(123_456);
    await driver.addProcess('shop', 'web', 777);
    expect(await driver.procs('shop', 'web')).toEqual([777]);
  });

  it('moves zones that inherited the project\'s cpuset along when it changes; refuses to strand an explicit one', async () => {
    const { driver, fake } = await ready({ version: 1, cpus: '0-3' });
    await driver.create('shop', 'db');
    await driver.apply('shop', 'db', limits({ cpuset: [1] }));
    fake.writes.length = 0;
    const narrow = await driver.ensureProject('shop', limits({ cpuset: [1, 2] }));
    expect(narrow.outcomes.find((o) => o.limit === 'cpuset')?.status).toBe('applied');
    expect(fake.writesUnder('cpuset/').map((w) => `${w.path}=${w.value}`)).toEqual(['cpuset/zonectl/shop/web/cpuset.cpus=1-2', 'cpuset/zonectl/shop/cpuset.cpus=1-2']);
    expect((await driver.read('shop', 'web')).cpuset).toBeNull(); // still "all the project has"
    const strand = await driver.ensureProject('shop', limits({ cpuset: [0] }));
    expect(strand.outcomes.find((o) => o.limit === 'cpuset')?.reason).toContain(`${fake.path('cpuset/zonectl/shop/db/cpuset.cpus')} (1) uses CPUs outside 0`);
  });

  it('reads usage from cpuacct, cpu.stat, memory.*, pids.* and blkio.throttle stats', async () => {
    const { fake, driver } = await ready();
    fake.set(z('cpuacct', 'cpuacct.usage'), '3000');
    fake.set(z('cpuacct', 'cpuacct.usage_user'), '2000');
    fake.set(z('cpuacct', 'cpuacct.usage_sys'), '1000');
    fake.set(z('cpu', 'cpu.stat'), 'nr_periods 30\nnr_throttled 29\nthrottled_time 1500000000\n');
    fake.set(z('memory', 'memory.usage_in_bytes'), '4096');
    fake.set(z('memory', 'memory.max_usage_in_bytes'), '8192');
    fake.set(z('memory', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    fake.set(z('pids', 'pids.current'), '3');
    fake.set(z('blkio', 'blkio.throttle.io_service_bytes_recursive'), '254:0 Read 100\n254:0 Write 200\n254:0 Sync 300\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 300\nTotal 300\n');
    fake.set(z('blkio', 'blkio.throttle.io_serviced_recursive'), '254:0 Read 1\n254:0 Write 2\n254:0 Total 3\nTotal 3\n');
    expect(await driver.usage('shop', 'web')).toEqual({
      cpu: { usage_ns: 3000, user_ns: 2000, system_ns: 1000, periods: 30, throttled_periods: 29, throttled_ns: 1_500_000_000 },
      memory: { current: 4096, peak: 8192, limit: null, oom_kills: 2 },
      pids: { current: 3, limit: null },
      io: { read_bytes: 100, write_bytes: 200, read_ops: 1, write_ops: 2 },
      unavailable: [],
    });
  });

  it('freezes, kills and thaws through freezer.state, then removes every hierarchy bottom-up', async () => {
    const { fake, driver } = await ready();
    await driver.addProcess('shop', 'web', 4242);
    fake.writes.length = 0;
    await driver.removeProject('shop');
    expect(fake.writes).toEqual([
      { path: z('freezer', 'freezer.state'), value: 'FROZEN' },
      { path: z('freezer', 'freezer.state'), value: 'THAWED' },
    ]);
    expect(await driver.projects()).toEqual([]);
  });

  it('canonicalises what v1 cannot hold exactly', async () => {
    const { driver } = await ready();
    const c = driver.canonical(limits({ cpu_weight: 37, memory: 100_000_000, memory_swap: 1000, io: { weight: 5000, devices: { '/dev/vda': { read_bps: null, write_bps: null, read_iops: null, write_iops: null } } } }));
    expect(c).toMatchObject({ cpu_weight: 37, memory: 99_999_744, memory_swap: 0, io: { weight: 1000, devices: {} } });
    expect(driver.canonical(neutral()).memory_swap).toBe(0);
  });
});
