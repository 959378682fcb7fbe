// The default seccomp filter against the real kernel (root only): the probe makes each call
// with arguments the kernel rejects or ignores, so the errno tells who answered. EPERM in a
// default zone; the kernel's own answer in an unconfined zone (the check can fail); the
// kernel's answer again where a capability added to the zone re-allows the call, as in Docker.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Privileges, Zone } from '../../../src/model/types.js';
import { NativeZoneDriver } from '../../../src/host/zone/native.js';
import { StateStore } from '../../../src/host/state/store.js';
import type { RunDirHold } from '../../../src/host/state/volatile.js';
import { describeRoot } from '../../helpers/root.js';
import { buildProbe, parseSyscalls } from './probe.js';

const project = `zt-esc-${randomBytes(4).toString('hex')}`;
let runHold: RunDirHold | undefined;
const driver = new NativeZoneDriver();
const started = new Set<string>();
let work = '';
let probeDir = '';

function zone(name: string, privileges: Privileges): Zone {
  return {
    name, hostname: name, root: { kind: 'sparse' }, read_only: false, command: ['/bin/sleep', 'infinity'], workdir: '/',
    env: {}, user: null, mounts: [{ type: 'bind', source: probeDir, target: '/probe', read_only: true }],
    limits: { cpus: null, cpu_weight: 100, cpuset: null, memory: null, memory_swap: null, memory_reservation: null, pids: null, io: { weight: 100, devices: {} } },
    networks: {}, depends_on: [], restart: { policy: 'no' }, ports: [], stop_grace_period: 1000, privileges,
  };
}

async function syscallsIn(name: string, privileges: Privileges): Promise<Record<string, string>> {
  started.add(name);
  await driver.start(project, zone(name, privileges));
  const r = await driver.exec(project, name, ['/probe/probe', 'syscalls'], { stdio: 'pipe' });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return parseSyscalls(r.stdout);
}

/** Calls the kernel itself answers with something other than EPERM for a zone's root with the default capabilities. */
const KERNEL_ANSWERS = [
  'ptrace', 'process_vm_readv', 'kcmp', 'pidfd_getfd', 'mount', 'umount2', 'unshare', 'setns', 'clone3', 'clone-newuser',
  'name_to_handle_at', 'clock_settime', 'adjtimex-read', 'keyctl', 'perf_event_open', 'get_mempolicy', 'personality-norandom',
  'x32', 'i386',
];
/** Denied whatever the capabilities. */
const NEVER = ['keyctl', 'io_uring_setup', 'personality-norandom', 'x32', 'i386'];
/** Re-allowed by the capabilities the third zone adds. */
const REALLOWED: Record<string, string> = {
  ptrace: 'CAP_SYS_PTRACE', process_vm_readv: 'CAP_SYS_PTRACE', kcmp: 'CAP_SYS_PTRACE', pidfd_getfd: 'CAP_SYS_PTRACE',
  mount: 'CAP_SYS_ADMIN', umount2: 'CAP_SYS_ADMIN', unshare: 'CAP_SYS_ADMIN', setns: 'CAP_SYS_ADMIN', clone3: 'CAP_SYS_ADMIN',
  'clone-newuser': 'CAP_SYS_ADMIN', perf_event_open: 'CAP_SYS_ADMIN', open_by_handle_at: 'CAP_DAC_READ_SEARCH',
  name_to_handle_at: 'CAP_DAC_READ_SEARCH', finit_module: 'CAP_SYS_MODULE', delete_module: 'CAP_SYS_MODULE',
  reboot: 'CAP_SYS_BOOT', clock_settime: 'CAP_SYS_TIME', settimeofday: 'CAP_SYS_TIME', 'adjtimex-read': 'CAP_SYS_TIME',
  'adjtimex-tick': 'CAP_SYS_TIME', get_mempolicy: 'CAP_SYS_NICE',
};

describeRoot('seccomp default filter (real kernel)', () => {
  beforeAll(async () => {
    // held as every writing zonectl run holds it: its tmpfs where /run is on disk, gone at the end
    runHold = await new StateStore().hold();
    work = mkdtempSync(join(tmpdir(), 'zt-esc-'));
    probeDir = buildProbe(join(work, 'probe'));
  });

  afterAll(async () => {
    for (const name of started) await driver.stop(project, name, 0);
    for (const name of started) await driver.remove(project, name, { layers: true });
    if (work) rmSync(work, { recursive: true, force: true });
    await runHold?.release();
  });

  it('denies with EPERM what the kernel would otherwise answer, and only when the filter is on', async () => {
    const none = { add: [], drop: [] };
    const on = await syscallsIn('sc-default', { capabilities: none, seccomp: 'default', userns: false });
    const off = await syscallsIn('sc-off', { capabilities: none, seccomp: 'unconfined', userns: false });
    for (const name of KERNEL_ANSWERS) {
      expect.soft(off[name], `${name} unconfined`).toBeDefined();
      expect.soft(off[name], `${name} unconfined`).not.toBe('EPERM');
      expect.soft(on[name], `${name} filtered`).toBe(name === 'clone3' ? 'ENOSYS' : 'EPERM');
    }
    for (const name of Object.keys(REALLOWED)) if (name !== 'clone3') expect.soft(on[name], name).toBe('EPERM');
    // the query and the harmless personalities stay allowed
    expect(on['personality-query']).toBe('ok');
    expect(off.i386).toBe('ok'); // the 32-bit entry point exists on this kernel: the i386 check can fail
  });

  it('re-allows what an added capability is for, as Docker does; the rest stays denied', async () => {
    const add = [...new Set(Object.values(REALLOWED))].sort();
    const caps = await syscallsIn('sc-caps', { capabilities: { add, drop: [] }, seccomp: 'default', userns: false });
    for (const [name, cap] of Object.entries(REALLOWED)) expect.soft(caps[name], `${name} with ${cap}`).not.toBe('EPERM');
    for (const name of NEVER) expect.soft(caps[name], name).toBe('EPERM');
  });
});
