import { defineConfig } from 'vitest/config';

// Runs only the verify --deep benchmark (bench/verify-deep.ts); not part of `npm test`.
export default defineConfig({
  test: {
    include: ['bench/verify-deep.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
