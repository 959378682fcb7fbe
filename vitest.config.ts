import { defineConfig } from 'vitest/config';

// Two projects: unit tests (no root, files in parallel) and integration tests (root, the
// real kernel: one file at a time, since they share the host's cgroups, links and sysctls).
// `npm test` runs unit, then integration. Projects inherit these options (extends: true).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/integration/**'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
