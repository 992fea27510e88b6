/**
 * hook.conf's limit_rate (ftp.limitRate) really caps the upload: curl's
 * --limit-rate, timed on a small archive so that the test stays short.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ftpServerKinds, startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, guestEnv, runHook } from './hookRun.js';

const archiveName = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';
const size = 300_000;

describe.each(ftpServerKinds())('hook upload rate cap, FTP server %s', (kind) => {
  let server: TestFtpServer;
  let node: FakeNode;

  beforeEach(async () => {
    server = await startFtpServer(kind);
    node = await fakeNode();
  });
  afterEach(async () => {
    await server.close();
    await node.close();
  });

  async function timedUpload(limitRate?: string): Promise<number> {
    const conf = confFor(server);
    await node.writeConf({ ...conf, ftp: { ...conf.ftp, ...(limitRate ? { limitRate } : {}) } });
    const files = await node.backup(archiveName, size);
    const started = performance.now();
    const result = await runHook(
      ['log-end', 'snapshot', '101'],
      guestEnv(node, 'ftp-staging', files),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(result.code, result.output).toBe(0);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    return seconds;
  }

  it('takes as long as 50k per second allows, and is quicker without a cap', async () => {
    const uncapped = await timedUpload();
    const capped = await timedUpload('50k');
    // 300 000 B at 51 200 B/s is 5.9 s; curl may burst a little at the start.
    // The uncapped run only has to be clearly quicker: a loaded machine can
    // make a hook run of 300 kB take a couple of seconds too.
    expect(capped).toBeGreaterThan(4.5);
    expect(capped).toBeLessThan(20);
    expect(uncapped).toBeLessThan(capped - 2);
  });
});
