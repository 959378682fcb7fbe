// The zone helper's `serve` process (native/helper/main.c): it forks one process for each zone
// start, where an exec of the helper a zone would run glibc's start-up each time (~0.3 ms of
// trapped CPUID instructions in a VM, and the exec). A run that will start zones reserves it
// first (ZoneDriver.hold, from execute), so that its spawn and exec are off the first start's
// path; each start reserves it too (and starts one if none runs). It is let go (its stdin
// closed: it exits) once no reservation holds it, and the next reservation starts another.

import { type ProgramOutput, type ProgramRun, runProgram } from '../run.js';

interface Waiting {
  resolve(out: ProgramOutput): void;
  reject(reason: unknown): void;
}

/** One `serve` process, the starts that wait for its answers, and how many reservations hold it. */
class Server {
  readonly proc: ProgramRun;
  readonly waiting = new Map<string, Waiting>();
  users = 0;
  /** The cgroup.procs files of the last `join` sent, tab-joined; null: none yet. */
  joined: string | null = null;
  private partial = '';

  /** Once it has exited: how a start still waiting, or made later, ends. */
  private gone: ((w: Waiting) => void) | null = null;

  constructor(helper: string, exited: (s: Server) => void) {
    this.proc = runProgram(helper, ['serve'], { hold: true, onStdout: (chunk) => this.read(chunk) });
    // Gone with starts still waiting (it crashed, or never ran): each gets what it left.
    const orphan = (settle: (w: Waiting) => void): void => {
      this.gone = settle;
      exited(this);
      for (const w of this.waiting.values()) settle(w);
      this.waiting.clear();
    };
    this.proc.done.then(
      (out) => orphan((w) => w.resolve({ code: out.code === 0 ? 1 : out.code, stdout: '', stderr: out.stderr || `the helper's serve exited (${out.code}) before its answer` })),
      (e: unknown) => orphan((w) => w.reject(e)),
    );
  }

  /** Waits for the answer to request `id`. */
  answer(id: string): Promise<ProgramOutput> {
    return new Promise<ProgramOutput>((resolve, reject) => {
      if (this.gone) this.gone({ resolve, reject });
      else this.waiting.set(id, { resolve, reject });
    });
  }

  /** The answers, "ID ok ..." or "ID error ...", a line each. */
  private read(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const space = line.indexOf(' ');
      const w = space < 0 ? undefined : this.waiting.get(line.slice(0, space));
      if (w === undefined) continue;
      this.waiting.delete(line.slice(0, space));
      const answer = line.slice(space + 1);
      w.resolve({ code: answer.startsWith('ok ') ? 0 : 1, stdout: `${answer}\n`, stderr: '' });
    }
  }
}

/** The right to one start from a running `serve` (HelperServer.reserve). */
export interface HelperReservation {
  /**
   * Starts the zone of `specPath` in the network namespace at `netns` (a path the helper opens,
   * such as /proc/PID/fd/N of this process: open until `done`). With `go`, the zone's command
   * waits for send() (any byte: go); close() calls the start off. `done` gives the helper's
   * answer as a process of its own would: code 0 and "ok PID MS", or code 1 and "error ...".
   * `join`: cgroup.procs files where the supervisor of this start, and of every later one, is
   * born (serve is told once, unless they change); a start whose supervisor cannot get there
   * answers with why.
   */
  start(specPath: string, netns: string, go: boolean, join?: readonly string[]): ProgramRun;
  /** Done with it (started and answered, or never started); more than once is a no-op. */
  release(): void;
}

export class HelperServer {
  private current: Server | null = null;
  private next = 0;

  constructor(private readonly helper: string) {}

  /**
   * A reservation of the running `serve` process, started now if there is none: its exec
   * overlaps with what the caller does before its start. The process is let go (its stdin
   * closed: it exits once its starts have) when the last reservation is released.
   */
  reserve(): HelperReservation {
    const server = (this.current ??= new Server(this.helper, (s) => {
      if (this.current === s) this.current = null;
    }));
    server.users++;
    let held = true;
    return {
      start: (specPath, netns, go, join) => {
        const id = String(++this.next);
        const done = server.answer(id);
        const files = join === undefined || join.length === 0 ? null : join.join('\t');
        // one write: where the supervisors go comes before the start, with nothing between them
        const told = files === null || files === server.joined ? '' : `join\t${files}\n`;
        if (files !== null) server.joined = files;
        server.proc.send(`${told}start\t${id}\t${specPath}\t${netns}\t${go ? 1 : 0}\n`);
        let waits = go;
        const end = (request: string): void => {
          if (!waits) return;
          waits = false;
          server.proc.send(`${request}\t${id}\n`); // a no-op once the process has exited
        };
        return { done, send: () => end('go'), close: () => end('cancel') };
      },
      release: () => {
        if (!held) return;
        held = false;
        if (--server.users > 0) return;
        if (this.current === server) this.current = null;
        server.proc.close();
      },
    };
  }
}
