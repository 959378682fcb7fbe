// The file system calls the host layer awaits, as promises over node:fs's callback API.
// node:fs/promises is not used on the up and down paths: loading it costs ~1.3 ms at every
// start (it brings streams and readline with it), and node:fs is loaded anyway. Nor is
// util.promisify: its first calls took ~0.4 ms of a cold up (its lazy set-up included), for what
// one line does.

import { mkdir as mkdirCb, readdir as readdirCb, readFile as readFileCb, readlink as readlinkCb, rename as renameCb, rm as rmCb, stat as statCb, write as writeCb, writeFile as writeFileCb } from 'node:fs';

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/** `fn` with its callback (the last argument, Node's `(err, value)`) made a promise. */
function promised<A extends unknown[], T>(fn: (...args: [...A, Callback<T>]) => void): (...args: A) => Promise<T> {
  return (...args) => new Promise((resolve, reject) => fn(...args, (err, value) => (err ? reject(err) : resolve(value))));
}

export const mkdir = promised<[path: string, options: { recursive?: boolean; mode?: number }], string | undefined>(mkdirCb);
export const readdir = promised<[path: string], string[]>(readdirCb);
export const readFile = promised<[path: string, encoding: BufferEncoding], string>(readFileCb);
export const readlink = promised<[path: string], string>(readlinkCb);
export const rename = promised<[from: string, to: string], void>(renameCb);
export const rm = promised<[path: string, options: { recursive?: boolean; force?: boolean }], void>(rmCb);
export const stat = promised<[path: string], import('node:fs').Stats>(statCb);
/** write(2) of a string to a descriptor, off the calling thread; the bytes written. */
export const write = promised<[fd: number, data: string], number>(writeCb);
export const writeFile = promised<[path: string, data: string, options: { mode: number }], void>(writeFileCb);
