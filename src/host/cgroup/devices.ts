// Block devices: the model keys io limits by path (/dev/vda); cgroup files key them by
// MAJ:MIN. Resolution goes both ways; reading back yields /dev/NAME (the kernel's name).

import { readlink, stat } from '../afs.js';
import { basename } from 'node:path';
import { errnoCode, HostError } from '../errors.js';

export interface DeviceResolver {
  /** `/dev/vda` → `254:0`. Throws HostError when the path is not a block device. */
  toMajMin(path: string): Promise<string>;
  /** `254:0` → `/dev/vda`, or `/dev/block/254:0` when the kernel has no name for it. */
  toPath(majMin: string): Promise<string>;
}

/** Linux's dev_t encoding (glibc gnu_dev_major/minor). */
function majorOf(dev: number): number {
  return Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
}
function minorOf(dev: number): number {
  return Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
}

export const hostDevices: DeviceResolver = {
  async toMajMin(path) {
    let st;
    try {
      st = await stat(path);
    } catch (cause) {
      throw new HostError(`stat ${path}: ${errnoCode(cause) ?? String(cause)}`, { cause, path });
    }
    if (!st.isBlockDevice()) throw new HostError(`${path} is not a block device`, { path, code: 'ENOTBLK' });
    return `${majorOf(st.rdev)}:${minorOf(st.rdev)}`;
  },
  async toPath(majMin) {
    const link = `/sys/dev/block/${majMin}`;
    try {
      return `/dev/${basename(await readlink(link))}`;
    } catch (cause) {
      if (errnoCode(cause) === 'ENOENT') return `/dev/block/${majMin}`;
      throw new HostError(`readlink ${link}: ${errnoCode(cause) ?? String(cause)}`, { cause, path: link });
    }
  },
};
