// The file system calls the host layer awaits, as promises over node:fs's callback API.
// node:fs/promises is not used on the up and down paths: loading it costs ~1.3 ms at every
// start (it brings streams and readline with it), and node:fs is loaded anyway.

import { mkdir as mkdirCb, readdir as readdirCb, readFile as readFileCb, readlink as readlinkCb, rename as renameCb, rm as rmCb, stat as statCb, unlink as unlinkCb, writeFile as writeFileCb } from 'node:fs';
import { promisify } from 'node:util';

export const mkdir = promisify(mkdirCb);
export const readdir = promisify(readdirCb);
export const readFile = promisify(readFileCb);
export const readlink = promisify(readlinkCb);
export const rename = promisify(renameCb);
export const rm = promisify(rmCb);
export const stat = promisify(statCb);
export const unlink = promisify(unlinkCb);
export const writeFile = promisify(writeFileCb);
