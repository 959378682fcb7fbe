// The image cache: a tarball is unpacked once into LIB/images/SHA256 (its content digest) and
// then only ever used as a read-only lower layer. Unpacking goes to a temporary directory that
// is renamed into place, so a half-unpacked image is never used.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from '../afs.js';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { HostError } from '../errors.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The unpacked image directory for `tarball` (gzip, xz, zstd or plain tar), unpacking it if needed. */
export async function ensureImage(tarball: string, cacheDir: string): Promise<{ dir: string; digest: string }> {
  let digest: string;
  try {
    digest = await sha256File(tarball);
  } catch (e) {
    throw new HostError(`read image ${tarball}`, { cause: e, path: tarball });
  }
  const dir = join(cacheDir, digest);
  if (await isDir(dir)) return { dir, digest };
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const tmp = join(cacheDir, `.tmp-${digest.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o755 });
  try {
    await promisify(execFile)('tar', ['-x', '-f', tarball, '-C', tmp, '--numeric-owner', '--same-permissions', '--same-owner'], {
      maxBuffer: 1 << 20,
    });
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e; // another zonectl won the race
      await rm(tmp, { recursive: true, force: true });
    });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const stderr = (e as { stderr?: unknown }).stderr;
    throw new HostError(`unpack image ${tarball}${typeof stderr === 'string' && stderr ? `: ${stderr.trim()}` : ''}`, {
      cause: e,
      path: tarball,
    });
  }
  return { dir, digest };
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
