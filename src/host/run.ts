// Running a program (the zone helper, nft): spawned through the addon (posix_spawn, no fork of
// Node), its input written, its output read and its exit reaped by a native thread of its own
// (collect). Neither node:child_process nor node:net is loaded, and no stream is made per run.

import { closeSync, writeSync } from 'node:fs';

import { collect, spawnProcess } from '../native/index.js';

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

export function runProgram(path: string, args: readonly string[], opts: ProgramRunOptions = {}): ProgramRun {
  const piped = !opts.inherit;
  const stdinMode = opts.inherit ? 'inherit' : opts.input !== undefined || opts.hold ? 'pipe' : 'null';
  const child = spawnProcess(path, [path, ...args], [stdinMode, piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit']);
  // with input, stdin is the collecting thread's; held, it stays ours for send() and close()
  const feeding = opts.input !== undefined;
  let stdin = feeding ? -1 : child.stdin;
  const closeStdin = (): void => {
    if (stdin < 0) return;
    const fd = stdin;
    stdin = -1;
    closeSync(fd);
  };
  const input = feeding ? Buffer.from(opts.input ?? '') : undefined;
  const done = (async (): Promise<ProgramOutput> => {
    try {
      const r = await collect(child.pidfd, feeding ? child.stdin : -1, input, child.stdout, child.stderr);
      return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
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
