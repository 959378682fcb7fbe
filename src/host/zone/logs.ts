// Reading a zone's log: the rotated files oldest first, then the current one; `tail` keeps the
// last lines; `follow` keeps reading the current file, reopening it when it is rotated.

import { open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const FOLLOW_INTERVAL_MS = 100;

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function lastLines(buf: Buffer, n: number): Buffer {
  if (n <= 0) return Buffer.alloc(0);
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--; // a final newline ends the last line
  let i = end;
  for (let seen = 0; i > 0; i--) {
    if (buf[i - 1] === 0x0a && ++seen === n) break;
  }
  return buf.subarray(i);
}

export async function* readLogs(
  path: string,
  maxFiles: number,
  opts: { follow?: boolean; tail?: number; signal?: AbortSignal },
): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  for (let i = maxFiles - 1; i >= 1; i--) {
    const b = await readIfExists(`${path}.${i}`);
    if (b) parts.push(b);
  }
  // the current file is read through a handle that follow keeps using
  let handle = await open(path, 'r').catch(() => null);
  let position = 0;
  if (handle) {
    const cur = await handle.readFile();
    position = cur.length;
    parts.push(cur);
  }
  const all = Buffer.concat(parts);
  const out = opts.tail === undefined ? all : lastLines(all, opts.tail);
  if (out.length > 0) yield out;
  if (!opts.follow) {
    await handle?.close();
    return;
  }
  try {
    const buf = Buffer.alloc(65536);
    while (!opts.signal?.aborted) {
      if (handle) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield Buffer.from(buf.subarray(0, bytesRead));
          continue;
        }
        // drained: has the file been rotated away under us?
        const [mine, now] = await Promise.all([handle.stat(), stat(path).catch(() => null)]);
        if (now && now.ino !== mine.ino) {
          await handle.close();
          handle = await open(path, 'r').catch(() => null);
          position = 0;
          continue;
        }
      } else {
        handle = await open(path, 'r').catch(() => null);
        if (handle) continue;
      }
      await sleep(FOLLOW_INTERVAL_MS, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  } finally {
    await handle?.close();
  }
}
