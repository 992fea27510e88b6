import { defineConfig } from 'vitest/config';

// Runs only the status read benchmark (bench/status-nas.ts); not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/status-nas.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
