// The supervisor's record and the log reader: plain files, no root needed.
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { readLogs } from '../../../src/host/zone/logs.js';
import { isSameProcess, parseRecord, processStartTime } from '../../../src/host/zone/record.js';

const dir = mkdtempSync(join(tmpdir(), 'zt-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts).toString();
}

describe('supervisor record', () => {
  it('parses what native/helper/record.c writes', () => {
    const r = parseRecord(
      'state=running\nsupervisor_pid=10\nsupervisor_start=99\ninit_pid=11\ninit_start=100\nstarted_at=1700000000000\nexit_code=-1\nrestarts=2\nerror=ENOENT execve /x\n',
    );
    expect(r).toEqual({
      state: 'running', supervisorPid: 10, supervisorStart: '99', initPid: 11, initStart: '100',
      startedAt: 1700000000000, exitCode: -1, restarts: 2, error: 'ENOENT execve /x',
    });
  });

  it('rejects a torn or foreign file', () => {
    expect(parseRecord('')).toBeNull();
    expect(parseRecord('state=dancing\n')).toBeNull();
    expect(parseRecord('state=running\nsupervisor_pid=x\n')).toBeNull();
  });

  it('trusts a pid only with its start time', async () => {
    const start = await processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(await isSameProcess(process.pid, start ?? '')).toBe(true);
    expect(await isSameProcess(process.pid, '1')).toBe(false); // same pid, another process
    expect(await isSameProcess(2 ** 22 + 1, start ?? '')).toBe(false);
  });
});

describe('log reader', () => {
  it('reads rotated files oldest first, and tails across them', async () => {
    const log = join(dir, 'a.log');
    writeFileSync(`${log}.2`, 'one\ntwo\n');
    writeFileSync(`${log}.1`, 'three\n');
    writeFileSync(log, 'four\nfive\n');
    expect(await collect(readLogs(log, 3, {}))).toBe('one\ntwo\nthree\nfour\nfive\n');
    expect(await collect(readLogs(log, 3, { tail: 3 }))).toBe('three\nfour\nfive\n');
    expect(await collect(readLogs(log, 3, { tail: 0 }))).toBe('');
    expect(await collect(readLogs(log, 2, {}))).toBe('three\nfour\nfive\n'); // only maxFiles files exist
    expect(await collect(readLogs(join(dir, 'none.log'), 3, {}))).toBe('');
  });

  it('follows the current file across a rotation', async () => {
    const log = join(dir, 'b.log');
    writeFileSync(log, 'a\n');
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const b of readLogs(log, 3, { follow: true, signal: ac.signal })) {
        seen.push(b.toString());
        if (seen.join('').includes('c\n')) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(log, 'b\n');
    await new Promise((r) => setTimeout(r, 150));
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'c\n');
    await reading;
    expect(seen.join('')).toBe('a\nb\nc\n');
  });
});
