// Limits with nothing set: what the kernel gives a new cgroup, and what a zone gets when the
// files set no limit.

import type { Limits } from './types.js';

export function unlimited(): Limits {
  return {
    cpus: null,
    cpu_weight: 100,
    cpuset: null,
    memory: null,
    memory_swap: 0,
    memory_reservation: null,
    pids: null,
    io: { weight: 100, devices: {} },
  };
}
