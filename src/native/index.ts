// The only importer of the native addon: loads the .node file, owns its types, and turns every
// native failure into a SysError. Also names the helper executable built beside it.
import { constants } from 'node:os';
import { join } from 'node:path';

/**
 * native/build/Release, from src/native (vitest) and dist/native (built) alike; ZONECTL_NATIVE_DIR
 * overrides it (a build kept elsewhere, e.g. while native/build is being rebuilt).
 */
const BUILD_DIR =
  process.env.ZONECTL_NATIVE_DIR ?? join(import.meta.dirname, '..', '..', 'native', 'build', 'Release');

/** The helper executable: zone supervisor and init, namespace entry for exec. */
export const HELPER_PATH = join(BUILD_DIR, 'zonectl-helper');

/** A failed system call, shaped like Node's own system errors. */
export class SysError extends Error {
  /** `EPERM`, `ENOENT`... — branch on this, never on the message. */
  readonly code: string;
  /** Negative, as in Node's errors. */
  readonly errno: number;
  readonly syscall: string;
  /** The object involved, when it is a path. */
  readonly path: string | undefined;
  /** The object involved, when it is a network interface. */
  readonly ifname: string | undefined;

  constructor(init: { code: string; errno: number; syscall: string; path?: string; ifname?: string; message?: string }) {
    const object = init.path ?? init.ifname;
    super(init.message ?? `${init.syscall}${object === undefined ? '' : ` ${object}`}: ${init.code}`);
    this.name = 'SysError';
    this.code = init.code;
    this.errno = init.errno;
    this.syscall = init.syscall;
    this.path = init.path;
    this.ifname = init.ifname;
  }
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, n]) => [n, name]),
);

/** An errno number (positive or negative) to its name: 1 → 'EPERM'. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A SysError from a positive errno, for failures reported by the helper executable. */
export function sysErrorFromErrno(errno: number, syscall: string, path?: string): SysError {
  const code = errnoName(errno);
  return new SysError({ code, errno: -Math.abs(errno), syscall, ...(path === undefined ? {} : { path }) });
}

function field(o: object, key: string): unknown {
  return (o as Record<string, unknown>)[key];
}

/** The one place a value thrown by the addon becomes a SysError (other errors pass through). */
export function toSysError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof SysError) return e;
  const code = field(e, 'code');
  const errno = field(e, 'errno');
  const syscall = field(e, 'syscall');
  if (typeof code !== 'string' || typeof errno !== 'number' || typeof syscall !== 'string') return e;
  const path = field(e, 'path');
  const ifname = field(e, 'ifname');
  const err = new SysError({
    code, errno, syscall, message: e.message,
    ...(typeof path === 'string' ? { path } : {}),
    ...(typeof ifname === 'string' ? { ifname } : {}),
  });
  return err;
}

/** What a standard descriptor of a spawned child is connected to. */
export type StdioMode = 'inherit' | 'null' | 'pipe';

/** What a finished child gave (startProcess). */
export interface Collected {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** A child started by startProcess. */
export interface StartedProcess {
  /** The write end of its stdin when piped without input (ours to close), else -1. */
  stdin: number;
  /** Settles once it has exited and closed its stdout and stderr; rejects (SysError) when it cannot be started. */
  done: Promise<Collected>;
}

interface Addon {
  run(path: string, argv: readonly string[], stdio: readonly StdioMode[], input: Buffer | undefined, onStdout: ((chunk: Buffer) => void) | undefined): StartedProcess;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  pidfdWait(pidfd: number, timeoutMs: number): Promise<boolean>;
  umount(path: string, detach: boolean): Promise<void>;
  mountTmpfs(target: string, data: string): void;
  readText(path: string): string | null;
  readTexts(paths: string[]): Promise<(string | null)[]>;
  tryFlock(fd: number, shared: boolean): boolean;
  flock(fd: number, shared: boolean): Promise<void>;
  exitNow(code: number): never;
}

let loaded: object | undefined;

/**
 * The addon's exports, loaded once: index.ts types its process and mount half, net.ts its
 * rtnetlink half. process.dlopen, not require: the module loader's first .node file costs
 * ~1.3 ms more (resolution, stats, realpath) on a cold start, for a path known in full.
 */
export function addonExports(): object {
  if (loaded === undefined) {
    const module = { exports: {} };
    process.dlopen(module, join(BUILD_DIR, 'zonectl_native.node'));
    loaded = module.exports;
  }
  return loaded;
}

function load(): Addon {
  return addonExports() as Addon; // the shape is fixed by native/src/addon.cc
}

/**
 * Ends the process at once with `code` (`_exit`), after the 'exit' event, when the addon is
 * loaded (a command that touched the host); false otherwise. Node's own exit joins V8's and
 * libuv's threads and runs the atexit handlers (OpenSSL's, ICU's): ~1.4 ms that a command whose
 * output is out and whose files are written does not need.
 */
export function exitNow(code: number): boolean {
  if (loaded === undefined) return false;
  process.exitCode = code;
  process.emit('exit', code);
  return (loaded as Addon).exitNow(code);
}

function call<T>(f: (a: Addon) => T): T {
  try {
    return f(load());
  } catch (e) {
    throw toSysError(e);
  }
}

async function callAsync<T>(f: (a: Addon) => Promise<T>): Promise<T> {
  try {
    return await f(load());
  } catch (e) {
    throw toSysError(e);
  }
}

/**
 * Start `path` and collect it, both on a native thread of its own: posix_spawn (no fork of this
 * process; its vfork waits for the child's exec off the event loop), then its input written
 * (`input`, to a piped stdin), its stdout and stderr read to their end, its exit reaped. The
 * child gets default signal dispositions, and no descriptor above 2. `onStdout`: each chunk of
 * a piped stdout as it comes, on this thread (`done`'s stdout is then empty).
 */
export function startProcess(path: string, argv: readonly string[], stdio: readonly [StdioMode, StdioMode, StdioMode], input?: Buffer, onStdout?: (chunk: Buffer) => void): StartedProcess {
  const started = call((a) => a.run(path, argv, stdio, input, onStdout));
  return { stdin: started.stdin, done: started.done.catch((e: unknown) => Promise.reject(toSysError(e))) };
}

/**
 * A whole small file (a cgroupfs or procfs control file) in one native call; null when it does
 * not exist. Other failures throw a SysError.
 */
export function readText(path: string): string | null {
  return call((a) => a.readText(path));
}

/** readText of each path, in order, in one call on a worker thread; rejects with the first failure but ENOENT. */
export function readTexts(paths: string[]): Promise<(string | null)[]> {
  return callAsync((a) => a.readTexts(paths));
}

/** A pidfd for `pid` (O_CLOEXEC); close it with `fs.closeSync`. */
export function pidfdOpen(pid: number): number {
  return call((a) => a.pidfdOpen(pid));
}

/** Signal the process behind a pidfd (immune to pid reuse). `signal`: a number or a name. */
export function pidfdSendSignal(pidfd: number, signal: number | NodeJS.Signals): void {
  const n = typeof signal === 'number' ? signal : constants.signals[signal];
  call((a) => a.pidfdSendSignal(pidfd, n));
}

/** Wait on a worker thread until the process exits; false on timeout (`timeoutMs` < 0: no timeout). */
export function pidfdWait(pidfd: number, timeoutMs: number): Promise<boolean> {
  return callAsync((a) => a.pidfdWait(pidfd, Math.min(Math.round(timeoutMs), 2 ** 31 - 1)));
}

/** Mount a tmpfs named zonectl (nosuid, nodev) on `target`, with the mount options `data`. */
export function mountTmpfs(target: string, data: string): void {
  call((a) => a.mountTmpfs(target, data));
}

/** umount2(path, UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0)) on a worker thread. */
export function umount(path: string, opts: { detach: boolean }): Promise<void> {
  return callAsync((a) => a.umount(path, opts.detach));
}

/** A flock(2) on `fd`, exclusive unless `shared`, if it is free now; false when another process holds it. */
export function tryFlock(fd: number, opts: { shared?: boolean } = {}): boolean {
  return call((a) => a.tryFlock(fd, opts.shared === true));
}

/** A flock(2) on `fd`, exclusive unless `shared`, waiting (on a worker thread) until it is free. */
export function flock(fd: number, opts: { shared?: boolean } = {}): Promise<void> {
  return callAsync((a) => a.flock(fd, opts.shared === true));
}
