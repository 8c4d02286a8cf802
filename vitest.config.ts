import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'interop/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Interop suites start brokers and external clients; keep them from
    // competing for the machine's two cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
