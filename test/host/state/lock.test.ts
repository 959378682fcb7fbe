import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockFile, lockHolder, tryLockFile } from '../../../src/host/state/lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('project lock', () => {
  it('is exclusive within a process: the second waits until the first releases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-lock-'));
    dirs.push(dir);
    const path = join(dir, 'proj', 'lock');
    const first = await lockFile(path);
    let waitedFor: number | null | undefined;
    let taken = false;
    const second = lockFile(path, (pid) => (waitedFor = pid)).then((l) => {
      taken = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(taken).toBe(false);
    expect(waitedFor).toBe(process.pid);
    first.release();
    (await second).release();
    expect(taken).toBe(true);
  });

  it('tryLockFile: taken when free, null while held, and free again once the holder removed and released it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonectl-lock-'));
    dirs.push(dir);
    const path = join(dir, 'proj', 'watch.lock');
    const first = tryLockFile(path);
    expect(first).not.toBeNull();
    expect(lockHolder(path)).toBe(process.pid);
    expect(tryLockFile(path)).toBeNull();
    first?.removeAndRelease();
    expect(existsSync(path)).toBe(false);
    const again = tryLockFile(path);
    expect(again).not.toBeNull();
    again?.release();
  });
});
