// Bounded polling, for the waits the kernel imposes (reclaim, processes exiting).

import { setTimeout as sleep } from 'node:timers/promises';

/** Calls `done` until it returns true or `timeoutMs` has passed; returns its last answer. */
export async function pollUntil(done: () => Promise<boolean>, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}
