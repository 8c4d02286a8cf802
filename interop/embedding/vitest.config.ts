// A user's vitest config with the README's globalSetup, run by interop/embedding.test.ts in its own vitest
// process: test files in parallel workers, some on the shared broker, some starting their own.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  test: {
    root: here,
    include: ['*.suite.ts'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: true,
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
