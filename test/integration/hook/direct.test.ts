/**
 * The hook script run directly with vzdump's argv and environment against a
 * real FTP server from the harness: every upload path and failure, fast.
 * The same script run by the simulator's vzdump is in viaSimulator.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ftpServerKinds,
  startFtpServer,
  supportsQuota,
  type TestFtpServer,
} from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, fastRetries, guestEnv, runHook } from './hookRun.js';

const archiveName = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';
const logName = 'vzdump-lxc-101-2026_11_30-02_00_05.log';
const shaName = `${archiveName}.sha256`;

describe.each(ftpServerKinds())('hook run directly, FTP server %s', (kind) => {
  let server: TestFtpServer;
  let node: FakeNode;
  let hookTmp: string;

  beforeEach(async () => {
    server = await startFtpServer(kind);
    node = await fakeNode();
    hookTmp = await mkdtemp(join(tmpdir(), 'pfb-hook-tmp-'));
  });
  afterEach(async () => {
    await server.close();
    await node.close();
    await rm(hookTmp, { recursive: true, force: true });
  });

  /** vzdump's env plus TMPDIR, so the test can see that the netrc dir is gone afterwards. */
  function env(files: { archive: string; log: string }, storeId = 'ftp-staging') {
    return { ...guestEnv(node, storeId, files), TMPDIR: hookTmp };
  }

  it('uploads the archive, its .sha256 and its log at log-end, exact, with no .part left and no secret printed', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 300_000);
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code, result.output).toBe(0);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    expect((await readdir(transfer)).sort()).toEqual([archiveName, logName, shaName].sort());
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    expect((await readFile(join(transfer, logName))).equals(files.logData)).toBe(true);
    // sha256sum's format, so `sha256sum -c` on the NAS checks the archive.
    const hex = createHash('sha256').update(files.archiveData).digest('hex');
    expect(await readFile(join(transfer, shaName), 'utf8')).toBe(`${hex}  ${archiveName}\n`);
    expect(result.output).toContain(`uploaded ${archiveName} (300000 bytes) to ftp://`);
    expect(result.output).toContain('/backup/pve1/transfer/');
    expect(result.output.trim().split('\n')).toHaveLength(2);
    expect(result.output).not.toContain(server.password);
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('does nothing in the phases before the archive exists', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 1000);
    for (const phase of ['backup-start', 'pre-stop', 'pre-restart', 'post-restart']) {
      const result = await runHook([phase, 'snapshot', '101'], env(files));
      expect(result).toMatchObject({ code: 0, output: '' });
    }
    expect(await readdir(server.root)).toEqual([]);
  });

  it('exits 0 silently on phases it does not know, even without a config', async () => {
    for (const args of [['job-init'], ['job-start'], ['some-future-phase', 'stop', '101'], []]) {
      const result = await runHook(args, {
        STOREID: 'ftp-staging',
        PVE_FTP_BACKUP_HOOK_CONF: join(node.base, 'missing.conf'),
      });
      expect(result).toMatchObject({ code: 0, output: '' });
    }
  });

  it('leaves backups to another storage alone', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 1000);
    const result = await runHook(['log-end', 'snapshot', '101'], env(files, 'local'));
    expect(result).toMatchObject({ code: 0, output: '' });
    expect(await readdir(server.root)).toEqual([]);
  });

  it('handles spaces and UTF-8 in the dir and the file name', async () => {
    await node.writeConf(confFor(server, { dir: '/NAS Backups/pve dump ü' }));
    const files = await node.backup('vzdump-lxc-101-2026_11_30 02 00 05 #1.tar', 5000);
    const result = await runHook(['log-end', 'stop', '101'], env(files));
    expect(result.code, result.output).toBe(0);
    const transfer = join(server.root, 'NAS Backups', 'pve dump ü', 'pve1', 'transfer');
    expect((await readdir(transfer)).sort()).toEqual([
      'vzdump-lxc-101-2026_11_30 02 00 05 #1.log',
      'vzdump-lxc-101-2026_11_30 02 00 05 #1.tar',
      'vzdump-lxc-101-2026_11_30 02 00 05 #1.tar.sha256',
    ]);
  });

  it('derives the log from TARFILE when PVE is old (no TARGET, no LOGFILE)', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup('vzdump-openvz-101-2015_03_01-01_00_02.tar.lzo', 2000);
    const result = await runHook(['log-end', 'snapshot', '101'], {
      STOREID: 'ftp-staging',
      DUMPDIR: node.dumpDir,
      VMTYPE: 'openvz',
      HOSTNAME: 'ct101',
      TARFILE: files.archive,
      PVE_FTP_BACKUP_HOOK_CONF: node.confPath,
    });
    expect(result.code, result.output).toBe(0);
    expect((await readdir(join(server.root, 'backup', 'pve1', 'transfer'))).sort()).toEqual([
      'vzdump-openvz-101-2015_03_01-01_00_02.log',
      'vzdump-openvz-101-2015_03_01-01_00_02.tar.lzo',
      'vzdump-openvz-101-2015_03_01-01_00_02.tar.lzo.sha256',
    ]);
  });

  it('deletes a stale larger .part instead of renaming it into place', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 50_000);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    await mkdir(transfer, { recursive: true });
    await writeFile(join(transfer, `${archiveName}.part`), Buffer.alloc(80_000, 7));
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code, result.output).toBe(0);
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    expect((await readdir(transfer)).sort()).toEqual([archiveName, logName, shaName].sort());
  });

  it('resumes a shorter .part left by an interrupted upload', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 64_000);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    await mkdir(transfer, { recursive: true });
    await writeFile(join(transfer, `${archiveName}.part`), files.archiveData.subarray(0, 20_000));
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code, result.output).toBe(0);
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
  });

  it('fails with one line naming host, path and reason when the FTP server is down', async () => {
    await node.writeConf(confFor(server), fastRetries);
    const files = await node.backup(archiveName, 1000);
    await server.close();
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code).not.toBe(0);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `ERROR: upload of ${archiveName} to ftp://${server.host}:${server.port}/backup/pve1/transfer/ failed after 2 attempt(s): curl: (7)`,
    );
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('fails at once, without retrying, on a wrong password, and never prints it', async () => {
    const wrong = 'Wr0ng$`pass"word';
    const conf = confFor(server);
    await node.writeConf({ ...conf, ftp: { ...conf.ftp, password: wrong } }, fastRetries);
    const files = await node.backup(archiveName, 1000);
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code).not.toBe(0);
    expect(result.output.trim().split('\n')).toHaveLength(1);
    expect(result.output).toMatch(/failed after 1 attempt\(s\): curl: \(67\)/);
    expect(result.output).not.toContain(wrong);
    expect(result.output).not.toContain(server.password);
  });

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsQuota(kind)) {
    it('fails clearly when the NAS disk is full, and renames nothing', async () => {
      await server.close();
      server = await startFtpServer(kind, { quotaBytes: 100_000 });
      await node.writeConf(confFor(server), 'retries=0\n');
      const files = await node.backup(archiveName, 400_000);
      const result = await runHook(['log-end', 'snapshot', '101'], env(files));
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/ERROR: upload of .* failed after 1 attempt\(s\): /);
      const transfer = join(server.root, 'backup', 'pve1', 'transfer');
      const names = await readdir(transfer).catch(() => []);
      expect(names).not.toContain(archiveName);
    });
  }

  it('in backup-end mode uploads the archive at backup-end and the log at log-end', async () => {
    await node.writeConf(confFor(server, { uploadAt: 'backup-end' }));
    const files = await node.backup(archiveName, 10_000);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    const atEnd = await runHook(['backup-end', 'stop', '101'], env(files));
    expect(atEnd.code, atEnd.output).toBe(0);
    expect((await readdir(transfer)).sort()).toEqual([archiveName, shaName]);
    const atLog = await runHook(['log-end', 'stop', '101'], env(files));
    expect(atLog.code, atLog.output).toBe(0);
    expect((await readdir(transfer)).sort()).toEqual([archiveName, logName, shaName].sort());
  });

  it('in backup-end mode fails the phase (and so the guest) when the upload fails', async () => {
    await node.writeConf(confFor(server, { uploadAt: 'backup-end' }), fastRetries);
    const files = await node.backup(archiveName, 1000);
    await server.close();
    const result = await runHook(['backup-end', 'stop', '101'], env(files));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('ERROR: upload of');
  });

  it('in log-end mode does nothing at backup-end', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 1000);
    const result = await runHook(['backup-end', 'snapshot', '101'], env(files));
    expect(result).toMatchObject({ code: 0, output: '' });
    expect(await readdir(server.root)).toEqual([]);
  });

  it('in log-end mode never fails (or speaks at) backup-end, whatever it could not do there', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 1000);
    // A temp dir that cannot be made (a full or missing /tmp): a non-zero exit
    // at backup-end would mark the guest's backup failed (docs/pve-facts.md#hook), which
    // log-end mode promises never to do.
    const noTmp = await runHook(['backup-end', 'snapshot', '101'], {
      ...env(files),
      TMPDIR: join(node.base, 'missing'),
    });
    expect(noTmp).toMatchObject({ code: 0, output: '' });
    const noTarget: Record<string, string> = env(files);
    delete noTarget.TARGET;
    const atEnd = await runHook(['backup-end', 'snapshot', '101'], noTarget);
    expect(atEnd).toMatchObject({ code: 0, output: '' });
    expect(await readdir(server.root)).toEqual([]);
  });

  it('fails with one clear line, and no login attempt, when its temp dir is full', async () => {
    await node.writeConf(confFor(server), fastRetries);
    const files = await node.backup(archiveName, 1000);
    // Every file write fails (EFBIG; a full tmpfs /tmp gives ENOSPC the same
    // way) while the temp dir itself can still be made: the netrc is empty.
    const result = await runHook(
      ['log-end', 'snapshot', '101'],
      env(files),
      30_000,
      undefined,
      'ulimit -f 0; trap "" XFSZ',
    );
    expect(result.code).toBe(1);
    expect(result.output).toBe(
      `pve-ftp-backup-hook: ERROR: cannot write to ${hookTmp} (disk full?); nothing uploaded\n`,
    );
    expect(await readdir(server.root)).toEqual([]);
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('uploads only the log of a failed backup', async () => {
    await node.writeConf(confFor(server));
    const files = await node.backup(archiveName, 1000);
    await rm(files.archive);
    const result = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('not found (the backup failed?)');
    expect(await readdir(join(server.root, 'backup', 'pve1', 'transfer'))).toEqual([logName]);
  });

  it('reports a missing config at log-end (one line) and stays silent at backup-end', async () => {
    const files = await node.backup(archiveName, 1000);
    const atEnd = await runHook(['backup-end', 'snapshot', '101'], env(files));
    expect(atEnd).toMatchObject({ code: 0, output: '' });
    const atLog = await runHook(['log-end', 'snapshot', '101'], env(files));
    expect(atLog.code).toBe(1);
    expect(atLog.output).toBe(
      `pve-ftp-backup-hook: ERROR: cannot read the config file ${node.confPath}\n`,
    );
  });
});
