// Running a child through the addon (posix_spawn + pidfd, on a thread of its own): output, input, exit codes, stdio
// inherited across a CLOEXEC parent descriptor, the held stdin and the streamed stdout of the helper's `serve`. No root
// needed.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runProgram } from '../../src/host/run.js';
import { HELPER_PATH, SysError } from '../../src/native/index.js';

describe('runProgram', () => {
  it('collects stdout and stderr and the exit code', async () => {
    const out = await runProgram('/bin/sh', ['-c', 'echo out; echo err >&2; exit 7']).done;
    expect(out).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reports death by a signal as 128 + its number, with default dispositions (SIGPIPE is not ignored)', async () => {
    expect((await runProgram('/bin/sh', ['-c', 'kill -TERM $$']).done).code).toBe(128 + 15);
    // node ignores SIGPIPE, and an ignored signal stays ignored across exec (glibc keeps its own
    // two, 32 and 33, ignored in a posix_spawn child: the helper resets those for the zone)
    const ignored = BigInt(`0x${/SigIgn:\s+([0-9a-f]+)/.exec((await runProgram('/bin/sh', ['-c', 'grep SigIgn /proc/self/status']).done).stdout)?.[1]}`);
    expect(ignored & ((1n << 31n) - 1n)).toBe(0n); // signals 1..31: SIGPIPE is bit 12
  });

  it('writes input to stdin, and gives a child with none /dev/null', async () => {
    expect((await runProgram('/bin/cat', [], { input: 'x'.repeat(200_000) }).done).stdout).toHaveLength(200_000);
    expect((await runProgram('/bin/sh', ['-c', 'readlink /proc/self/fd/0']).done).stdout).toBe('/dev/null\n');
  });

  it('passes no descriptor above 2', async () => {
    expect((await runProgram('/bin/sh', ['-c', 'ls /proc/self/fd']).done).stdout.trim().split('\n').sort()).toEqual(['0', '1', '2', '3']);
  });

  it('hands each chunk of stdout to onStdout as it comes, before done', async () => {
    const chunks: string[] = [];
    const run = runProgram('/bin/sh', ['-c', 'echo one; read -r x; echo "two $x"; echo err >&2'], { hold: true, onStdout: (c) => chunks.push(c.toString()) });
    await expect.poll(() => chunks.join('')).toBe('one\n'); // while the program still runs
    run.send('g\n');
    const out = await run.done;
    expect(chunks.join('')).toBe('one\ntwo g\n');
    expect(out).toEqual({ code: 0, stdout: '', stderr: 'err\n' });
  });

  it('holds stdin open across send()s until close()', async () => {
    const held = runProgram('/bin/sh', ['-c', 'read -r x; read -r y; echo "got ${x:-nothing} ${y:-nothing}"; cat'], { hold: true });
    await new Promise((r) => setTimeout(r, 50));
    held.send('n\n');
    await new Promise((r) => setTimeout(r, 20));
    held.send('g\n');
    await new Promise((r) => setTimeout(r, 20));
    held.close(); // cat ends at EOF
    expect((await held.done).stdout).toBe('got n g\n');
    const closed = runProgram('/bin/sh', ['-c', 'read -r x; echo "got ${x:-nothing}"'], { hold: true });
    closed.close();
    expect((await closed.done).stdout).toBe('got nothing\n');
    closed.send('late'); // after done: a no-op, not a write to a reused descriptor
  });

  it('inherits stdio even when our own descriptors are close-on-exec (as Node leaves them once it used process.stdout)', () => {
    const script = `
      console.log('parent');
      const a = require(${JSON.stringify(join(dirname(HELPER_PATH), 'zonectl_native.node'))});
      const flags = require('node:fs').readFileSync('/proc/self/fdinfo/1', 'utf8');
      console.log('cloexec', (parseInt(/flags:\\s+(\\d+)/.exec(flags)[1], 8) & 0o2000000) !== 0);
      a.run('/bin/echo', ['/bin/echo', 'child'], ['null', 'inherit', 'inherit']);`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out.split('\n').filter((l) => l !== 'cloexec false')).toEqual(['parent', ...(out.includes('cloexec true') ? ['cloexec true'] : []), 'child', '']);
    expect(out).toContain('child\n');
  });

  it('fails with a SysError for a missing executable', async () => {
    const missing = runProgram('/no/such/helper', []).done;
    await expect(missing).rejects.toBeInstanceOf(SysError);
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT', syscall: 'posix_spawn' });
  });

});
