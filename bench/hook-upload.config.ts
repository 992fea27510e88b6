import { defineConfig } from 'vitest/config';

// Runs only the hook upload benchmark (bench/hook-upload.ts); not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/hook-upload.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
