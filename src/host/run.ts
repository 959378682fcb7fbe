// Running a program (the zone helper): started, fed, read and reaped by a native thread of
// its own (startProcess: posix_spawn, no fork of Node). Neither node:child_process nor node:net
// is loaded, no stream is made per run, and the event loop never waits for a child's exec.

import { closeSync, writeSync } from 'node:fs';

import { startProcess } from '../native/index.js';

export interface ProgramOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProgramRun {
  /** Resolves when the program has exited. */
  done: Promise<ProgramOutput>;
  /** Send a byte (a few bytes) on its stdin (a run with `hold`); no-op once done or closed. */
  send(byte: string): void;
  /** Close its stdin (it reads EOF); no-op once done or closed. */
  close(): void;
}

export interface ProgramRunOptions {
  /** The program uses zonectl's stdio (exec without capture). */
  inherit?: boolean;
  /** Written to its stdin, which is then closed. */
  input?: string;
  /** Keep its stdin open for send()/close(). */
  hold?: boolean;
  /** Each chunk of its stdout as it comes (`done`'s stdout is then empty). */
  onStdout?: (chunk: Buffer) => void;
}

export function runProgram(path: string, args: readonly string[], opts: ProgramRunOptions = {}): ProgramRun {
  const piped = !opts.inherit;
  const stdinMode = opts.inherit ? 'inherit' : opts.input !== undefined || opts.hold ? 'pipe' : 'null';
  const input = opts.input === undefined ? undefined : Buffer.from(opts.input);
  const child = startProcess(path, [path, ...args], [stdinMode, piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit'], input, opts.onStdout);
  // held (no input): stdin is ours for send() and close()
  let stdin = child.stdin;
  const closeStdin = (): void => {
    if (stdin < 0) return;
    const fd = stdin;
    stdin = -1;
    closeSync(fd);
  };
  const done = (async (): Promise<ProgramOutput> => {
    try {
      const r = await child.done;
      return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
    } finally {
      closeStdin();
    }
  })();
  return {
    done,
    send: (byte) => {
      if (stdin < 0) return;
      try {
        writeSync(stdin, byte); // a byte or two into a pipe nobody fills: never blocks
      } catch {
        // EPIPE: the program is gone already; `done` tells why
        closeStdin();
      }
    },
    close: closeStdin,
  };
}
