// Integration tests need root. Without it they skip, saying why; with CI set they fail
// instead, so a CI job that lost its privileges cannot pass by testing nothing.

import { describe, it } from 'vitest';

export const isRoot = process.getuid?.() === 0;

/** Why root-only tests cannot run here, or null when they can. */
export function notRootReason(): string | null {
  return isRoot ? null : `needs root (running as uid ${process.getuid?.() ?? 'unknown'})`;
}

/** `describe` for tests that need root: skips visibly when not root, fails when CI is set. */
export function describeRoot(name: string, fn: () => void): void {
  const reason = notRootReason();
  if (reason === null) {
    describe(name, fn);
  } else if (process.env.CI !== undefined && process.env.CI !== '') {
    describe(name, () => {
      it('runs as root', () => {
        throw new Error(`${name}: ${reason}; CI is set, so this fails instead of skipping`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${reason}`);
    describe.skip(`${name} [skipped: ${reason}]`, fn);
  }
}
