import { defineConfig } from 'vitest/config';

// The default suite: runs on a fresh machine after `npm ci` alone. FTP cases
// run against the embedded server here; the real-server matrix is
// vitest.ftp-servers.config.ts (run by .ci/run after installing the servers).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/ftp-servers/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
