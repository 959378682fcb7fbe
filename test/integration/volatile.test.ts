// The run directory is made a tmpfs where its filesystem is not in memory (root only: it
// mounts). Against directories of this test's own under the temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

import { ensureVolatile } from '../../src/host/state/volatile.js';
import { describeRoot } from '../helpers/root.js';

const TMPFS_MAGIC = 0x01021994;
const work = mkdtempSync(join(tmpdir(), 'zt-volatile-'));
const mounted: string[] = [];

function mountsAt(dir: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === dir).length;
}

describeRoot('the run directory', () => {
  afterAll(() => {
    for (const d of mounted.reverse()) execFileSync('umount', [d]);
    rmSync(work, { recursive: true, force: true });
  });

  it('becomes a tmpfs of zonectl\'s own where its filesystem is on a disk, once, even when asked at once by several', async () => {
    const dir = join(work, 'run', 'zonectl');
    const onDisk = statfsSync(work).type !== TMPFS_MAGIC;
    const results = await Promise.all([ensureVolatile(dir), ensureVolatile(dir), ensureVolatile(dir)]);
    if (!onDisk) {
      // nothing to do where the temporary directory is a tmpfs already: the check that it did not mount
      expect(results).toEqual(['in memory', 'in memory', 'in memory']);
      expect(mountsAt(dir)).toBe(0);
      return;
    }
    mounted.push(dir);
    expect(results.filter((r) => r === 'mounted')).toHaveLength(1);
    expect(mountsAt(dir)).toBe(1);
    expect(statfsSync(dir).type).toBe(TMPFS_MAGIC);
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dir)!;
    expect(line).toMatch(/ - tmpfs zonectl rw/);
    expect(await ensureVolatile(dir)).toBe('in memory');
    expect(mountsAt(dir)).toBe(1);
  });

  it('is left on the disk when it already holds state (never covered)', async () => {
    if (statfsSync(work).type === TMPFS_MAGIC) return; // nothing to cover there
    const dir = join(work, 'old', 'zonectl');
    mkdirSync(join(dir, 'someproject'), { recursive: true });
    writeFileSync(join(dir, 'someproject', 'lock'), '');
    expect(await ensureVolatile(dir)).toBe('in use on disk');
    expect(mountsAt(dir)).toBe(0);
    expect(readFileSync(join(dir, 'someproject', 'lock'), 'utf8')).toBe('');
  });
});
