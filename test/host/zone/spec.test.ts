// The helper's spec: what the TypeScript side writes, and how the helper's parser rejects bad input.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { HELPER_PATH } from '../../../src/native/index.js';
import { capabilityMask, encodeHelperSpec, zoneEnvironment, type HelperSpecInput } from '../../../src/host/zone/spec.js';
import type { Zone } from '../../../src/model/types.js';

const zone: Zone = {
  name: 'web', hostname: 'web-1', root: { kind: 'image', image: '/img.tar' }, read_only: true,
  command: ['node', '/srv/a b.js'], workdir: '/srv', env: { A: '1', PATH: '/bin' }, user: '1000:1000',
  mounts: [
    { type: 'bind', source: '/data', target: '/srv/data', read_only: true },
    { type: 'tmpfs', target: '/cache', size: 1048576 },
  ],
  limits: {
    cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: null, memory_reservation: null,
    pids: null, io: { weight: 100, devices: {} },
  },
  networks: {}, depends_on: [], restart: { policy: 'on-failure', max_retries: 3 }, ports: [],
  stop_grace_period: 1500,
  privileges: { capabilities: { add: [], drop: [] }, seccomp: 'default', userns: false },
};

const input: HelperSpecInput = {
  project: 'shop', zone, lower: '/var/lib/zonectl/images/abc', rootfs: '/run/zonectl/shop/zones/web/root',
  upper: '/l/upper', work: '/l/work', stateDir: '/run/zonectl/shop/zones/web',
  logPath: '/l/zone.log', logMaxBytes: 4096, logMaxFiles: 2, cgroupProcs: ['/sys/fs/cgroup/zonectl/shop/web/cgroup.procs'],
};

const dir = mkdtempSync(join(tmpdir(), 'zt-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function helper(fields: string[]): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, `spec-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, fields.map((f) => `${f}\0`).join(''));
  const r = spawnSync(HELPER_PATH, ['exec', file, '1', '--', 'true'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('helper spec', () => {
  it('encodes records as NUL-terminated fields, version first and end last', () => {
    const fields = encodeHelperSpec(input).toString('utf8').split('\0');
    expect(fields.pop()).toBe(''); // the last field is terminated too
    expect(fields).toEqual([
      'version', '1', 'project', 'shop', 'zone', 'web', 'hostname', 'web-1',
      'root', 'image', '/var/lib/zonectl/images/abc', 'rootfs', '/run/zonectl/shop/zones/web/root',
      'layer', '/l/upper', '/l/work', 'read_only', '1',
      'arg', 'node', 'arg', '/srv/a b.js',
      'env', 'A=1', 'env', 'HOSTNAME=web-1', 'env', 'PATH=/bin',
      'workdir', '/srv', 'user', '1000:1000',
      'bind', '/data', '/srv/data', '1', 'tmpfs', '/cache', '1048576',
      'caps', '00000000800405fb', 'cgroup', '/sys/fs/cgroup/zonectl/shop/web/cgroup.procs',
      'state', '/run/zonectl/shop/zones/web',
      'log', '/l/zone.log', '4096', '2', 'restart', 'on-failure', '3', 'grace', '1500', 'seccomp', 'default', 'end',
    ]);
  });

  it('gives a default PATH and HOSTNAME that the zone can override', () => {
    expect(zoneEnvironment({ ...zone, env: {} })).toEqual([
      'HOSTNAME=web-1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
  });

  it('keeps Podman\'s default capabilities, adjusted by add and drop', () => {
    expect(capabilityMask(zone)).toBe('00000000800405fb');
    const adjusted = { ...zone, privileges: { ...zone.privileges, capabilities: { add: ['CAP_NET_ADMIN'], drop: ['CAP_KILL'] } } };
    expect(capabilityMask(adjusted)).toBe('00000000800415db');
    const none = { ...zone, privileges: { ...zone.privileges, capabilities: { add: [], drop: ['ALL'] } } };
    expect(capabilityMask(none)).toBe('0000000000000000');
  });

  it('passes the zone\'s host id range for privileges.userns, and nothing without it', () => {
    const fields = (i: typeof input) => encodeHelperSpec(i).toString('utf8').split('\0');
    const withIds = fields({ ...input, userns: { base: 1_000_000_000, count: 65536 } });
    expect(withIds.slice(withIds.indexOf('userns'), withIds.indexOf('userns') + 3)).toEqual(['userns', '1000000000', '65536']);
    expect(fields(input)).not.toContain('userns');
  });

  it('refuses a NUL inside a field', () => {
    expect(() => encodeHelperSpec({ ...input, zone: { ...zone, command: ['a\0b'] } })).toThrow(/arg contains a NUL/);
  });

  it('the helper accepts what the driver writes', () => {
    const file = join(dir, 'good');
    writeFileSync(file, encodeHelperSpec(input));
    // parsing succeeds; entering pid 2^22 then fails, which proves the spec got through
    const r = spawnSync(HELPER_PATH, ['exec', file, String(2 ** 22), '--', 'true'], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/zone web is not running/);
  });

  it.each([
    [['project', 'x', 'end'], /expected version 1 first/],
    [['version', '1', 'project', 'x'], /truncated: no end record/],
    [['version', '1', 'bogus', 'x', 'end'], /unknown key bogus/],
    [['version', '1', 'bind', '/a'], /truncated at bind/],
    [['version', '1', 'log', '/l', '12', '3', 'end'], /log size 12/],
    [['version', '1', 'root', 'path', 'relative', 'end'], /root relative is not absolute/],
    [['version', '1', 'end', 'zone', 'z'], /data after end/],
    [['version', '1', 'end'], /a required record is missing/],
    [['version', '1', 'seccomp', 'lenient', 'end'], /seccomp lenient/],
    [['version', '1', 'userns', '0', '65536', 'end'], /userns 0 65536/], // host root is never mapped
    [['version', '1', 'userns', '4294901760', '65536', 'end'], /userns 4294901760 65536/], // past the last id
  ])('the helper rejects a bad spec: %j', (fields, message) => {
    const r = helper(fields);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/EINVAL/);
  });

  it('the helper\'s serve answers a start of a bad spec on stdout, in the line the driver parses', () => {
    const file = join(dir, 'bad');
    writeFileSync(file, 'version\0' + '2\0');
    const r = spawnSync(HELPER_PATH, ['serve'], { encoding: 'utf8', input: `start\t7\t${file}\t/proc/self/ns/net\t1\n` });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('7 error 22 spec\texpected version 1 first\n');
  });
});
