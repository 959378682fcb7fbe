// Running a program (the zone helper, nft): spawned through the addon (posix_spawn, no fork of
// Node, and node:child_process is never loaded), its output collected on the event loop, its exit
// read through a pidfd.

import { closeSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';

import { SysError, pidfdReap, pidfdWait, spawnProcess } from '../native/index.js';

export interface ProgramOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProgramRun {
  /** Resolves when the program has exited. */
  done: Promise<ProgramOutput>;
  /** Send `byte` on its stdin and close it (a run with `hold`); no-op once done or sent. */
  send(byte: string): void;
  /** Close its stdin without a word (it reads EOF); no-op once done or sent. */
  close(): void;
}

export interface ProgramRunOptions {
  /** The program uses zonectl's stdio (exec without capture). */
  inherit?: boolean;
  /** Written to its stdin, which is then closed. */
  input?: string;
  /** Keep its stdin open for send()/close(). */
  hold?: boolean;
}

function drain(fd: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.once('error', reject);
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

function feed(fd: number, input: string): void {
  const s = new Socket({ fd, readable: false, writable: true });
  // a command that exits without reading its input: EPIPE here, its exit status says the rest
  s.on('error', () => {});
  s.end(input);
}

/** Its exit code. A program whose output has ended has mostly exited already: reaped at once, without a wait on the thread pool. */
async function reap(pidfd: number): Promise<number> {
  try {
    return pidfdReap(pidfd);
  } catch (e) {
    if (!(e instanceof SysError && e.code === 'EAGAIN')) throw e;
  }
  await pidfdWait(pidfd, -1);
  return pidfdReap(pidfd);
}

export function runProgram(path: string, args: readonly string[], opts: ProgramRunOptions = {}): ProgramRun {
  const piped = !opts.inherit;
  const stdinMode = opts.inherit ? 'inherit' : opts.input !== undefined || opts.hold ? 'pipe' : 'null';
  const child = spawnProcess(path, [path, ...args], [stdinMode, piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit']);
  let stdin = child.stdin;
  const closeStdin = (): void => {
    if (stdin < 0) return;
    const fd = stdin;
    stdin = -1;
    closeSync(fd);
  };
  if (opts.input !== undefined) {
    feed(stdin, opts.input);
    stdin = -1; // the socket owns it now
  }
  const done = (async (): Promise<ProgramOutput> => {
    try {
      const [out, err] = piped ? await Promise.all([drain(child.stdout), drain(child.stderr)]) : [Buffer.alloc(0), Buffer.alloc(0)];
      return { code: await reap(child.pidfd), stdout: out.toString('utf8'), stderr: err.toString('utf8') };
    } finally {
      closeStdin();
      closeSync(child.pidfd);
    }
  })();
  return {
    done,
    send: (byte) => {
      if (stdin < 0) return;
      try {
        writeSync(stdin, byte); // one byte into an empty pipe: never blocks
      } catch {
        // EPIPE: the program is gone already; `done` tells why
      }
      closeStdin();
    },
    close: closeStdin,
  };
}
