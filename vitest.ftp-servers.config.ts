import { defineConfig } from 'vitest/config';

// The real-server matrix: every test file that goes through the FTP harness
// (test/support/ftpServers.ts) runs against vsftpd, pure-ftpd and proftpd,
// installed by .ci/install-ftp-servers.sh (root needed: the daemons chroot and
// switch users). The default suite (vitest.config.ts) runs the same files
// against the embedded server only. Override the kinds with
// PVE_FTP_BACKUP_TEST_SERVERS in the environment.
export default defineConfig({
  test: {
    include: ['test/integration/ftp/**/*.test.ts', 'test/integration/hook/**/*.test.ts'],
    // The embedded server's own behaviour is covered by the default suite.
    exclude: ['test/integration/ftp/embeddedServer.test.ts', '**/node_modules/**'],
    env: {
      PVE_FTP_BACKUP_TEST_SERVERS:
        process.env.PVE_FTP_BACKUP_TEST_SERVERS ?? 'vsftpd,pure-ftpd,proftpd',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Each file starts its own daemons; two at a time fits the 2-core machines.
    maxWorkers: 2,
  },
});
