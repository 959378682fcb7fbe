// The real CgroupFs's batch read (the addon's readTexts, on a worker thread) against plain files:
// what observe relies on when it reads a zone's control files at once. No root needed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { nodeCgroupFs } from '../../../src/host/cgroup/fs.js';
import { HostError } from '../../../src/host/errors.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('nodeCgroupFs.readAll', () => {
  it('reads each file whole, in order, with null for one that is absent', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonectl-readall-'));
    writeFileSync(join(dir, 'pids.max'), '64\n');
    writeFileSync(join(dir, 'big'), 'x'.repeat(10_000)); // more than one read(2)
    const texts = await nodeCgroupFs.readAll([join(dir, 'pids.max'), join(dir, 'absent'), join(dir, 'big'), join(dir, 'pids.max')]);
    expect(texts).toEqual(['64\n', null, 'x'.repeat(10_000), '64\n']);
    expect(await nodeCgroupFs.readAll([])).toEqual([]);
  });

  it('fails as a HostError naming the file for anything but absence', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonectl-readall-'));
    mkdirSync(join(dir, 'cgroup'));
    const failure = await nodeCgroupFs.readAll([join(dir, 'absent'), join(dir, 'cgroup')]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HostError);
    expect((failure as HostError).message).toBe(`read ${join(dir, 'cgroup')}: EISDIR`);
  });
});

describe('nodeCgroupFs.write', () => {
  it('writes a memory limit of a cgroup that never held a process on the calling thread: done when the call returns', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonectl-write-'));
    const file = join(dir, 'memory.limit_in_bytes');
    writeFileSync(file, '');
    const written = nodeCgroupFs.write(file, '67108864', true);
    // not yet awaited: a write handed to a worker thread would still be pending here
    expect(readFileSync(file, 'utf8')).toBe('67108864');
    await written;
  });
});
