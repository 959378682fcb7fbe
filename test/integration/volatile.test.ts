// The run directory is held in memory where its filesystem is not (root only: it mounts), and
// let go when the last run leaves it empty. Against directories of this test's own under the
// temporary directory.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

import { holdRunDir } from '../../src/host/state/volatile.js';
import { umount } from '../../src/native/index.js';
import { describeRoot } from '../helpers/root.js';

const TMPFS_MAGIC = 0x01021994;
const work = mkdtempSync(join(tmpdir(), 'zt-volatile-'));
const onDisk = statfsSync(work).type !== TMPFS_MAGIC;

function mountsAt(dir: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === dir).length;
}

describeRoot('the run directory', () => {
  afterAll(async () => {
    // whatever a failed assertion left mounted goes
    for (const d of [join(work, 'run', 'zonectl'), join(work, 'busy', 'zonectl')]) {
      while (mountsAt(d) > 0) await umount(d, { detach: true });
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('is a tmpfs of zonectl\'s own while runs hold it (one mount for several at once), and gone when the last leaves it empty', async () => {
    const dir = join(work, 'run', 'zonectl');
    const holds = await Promise.all([holdRunDir(dir), holdRunDir(dir), holdRunDir(dir)]);
    if (!onDisk) {
      // where the temporary directory is a tmpfs already there is nothing to mount: the check that none was
      expect(mountsAt(dir)).toBe(0);
      for (const h of holds) await h.release();
      return;
    }
    expect(mountsAt(dir)).toBe(1);
    expect(statfsSync(dir).type).toBe(TMPFS_MAGIC);
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dir)!;
    expect(line).toMatch(/ - tmpfs zonectl rw/);
    // a record written under one holder keeps it mounted when the others leave
    writeFileSync(join(dir, 'record'), 'x');
    await holds[0]!.release();
    await holds[1]!.release();
    expect(mountsAt(dir)).toBe(1);
    // empty again, but still held: not yet
    unlinkSync(join(dir, 'record'));
    const late = await holdRunDir(dir);
    await holds[2]!.release();
    expect(mountsAt(dir)).toBe(1);
    // the last one out, with nothing inside: unmounted, and the directory it covered removed
    await late.release();
    expect(mountsAt(dir)).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });

  it('stays mounted when the last run leaves records in it (zones still running)', async () => {
    if (!onDisk) return; // nothing is mounted where /tmp is a tmpfs
    const dir = join(work, 'busy', 'zonectl');
    const h = await holdRunDir(dir);
    mkdirSync(join(dir, 'someproject'));
    await h.release();
    expect(mountsAt(dir)).toBe(1);
    // the next run that finds it empty lets it go
    rmSync(join(dir, 'someproject'), { recursive: true });
    await (await holdRunDir(dir)).release();
    expect(mountsAt(dir)).toBe(0);
  });

  it('is left on the disk when it already holds state (never covered)', async () => {
    if (!onDisk) return; // nothing to cover there
    const dir = join(work, 'old', 'zonectl');
    mkdirSync(join(dir, 'someproject'), { recursive: true });
    writeFileSync(join(dir, 'someproject', 'lock'), '');
    const h = await holdRunDir(dir);
    expect(mountsAt(dir)).toBe(0);
    await h.release();
    expect(readFileSync(join(dir, 'someproject', 'lock'), 'utf8')).toBe('');
  });
});
