// The addon's surface (src/native): pidfds and the errors it throws. No root needed.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { HELPER_PATH, SysError, errnoName, pidfdOpen, pidfdSendSignal, pidfdWait, sysErrorFromErrno } from '../../../src/native/index.js';

describe('native addon', () => {
  it('builds the helper executable beside the addon', () => {
    expect(existsSync(HELPER_PATH)).toBe(true);
  });

  it('exitNow ends the process at once with its code: nothing after it runs, no exit handler of Node', () => {
    const addon = JSON.stringify(join(dirname(HELPER_PATH), 'zonectl_native.node'));
    const script = `const m = { exports: {} }; process.dlopen(m, ${addon});
      process.on('exit', () => process.stdout.write('exit handler\\n'));
      process.stdout.write('before\\n'); m.exports.exitNow(7); process.stdout.write('after\\n');`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect([r.status, r.stdout]).toEqual([7, 'before\n']);
  });

  it('waits on a pidfd and signals through it', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_c, s) => res(s)));
    const fd = pidfdOpen(child.pid ?? -1);
    try {
      expect(await pidfdWait(fd, 50)).toBe(false);
      pidfdSendSignal(fd, 'SIGKILL');
      expect(await pidfdWait(fd, 5000)).toBe(true);
      expect(await exited).toBe('SIGKILL');
    } finally {
      closeSync(fd);
    }
  });

  it('throws SysErrors with code, errno and syscall', () => {
    let caught: unknown;
    try {
      pidfdOpen(2 ** 30); // beyond pid_max: no such process
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SysError);
    expect(caught).toMatchObject({ code: 'ESRCH', errno: -3, syscall: 'pidfd_open' });
  });

  it('names errnos as Node does', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(-2)).toBe('ENOENT');
    expect(sysErrorFromErrno(13, 'execve', '/bin/x').message).toBe('execve /bin/x: EACCES');
  });
});
