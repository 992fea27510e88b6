/**
 * The hook's secrets and transport security, run directly as vzdump runs it:
 * no password on any command line, the exact credentials curl sends for
 * hostile passwords, FTPS trust, and a task stop mid-login.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ftpServerKinds,
  startFtpServer,
  supportsTls,
  type TestFtpServer,
} from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, fastRetries, guestEnv, runHook } from './hookRun.js';
import { startLoginRecorder } from './loginRecorder.js';

const archiveName = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';

describe.each(ftpServerKinds())('hook secrets and FTPS, FTP server %s', (kind) => {
  let node: FakeNode;
  const servers: TestFtpServer[] = [];

  beforeEach(async () => {
    node = await fakeNode();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await node.close();
  });

  /** Every process command line seen while `running` is pending. */
  async function watchCommandLines(running: Promise<unknown>): Promise<string[]> {
    let done = false;
    void running.finally(() => {
      done = true;
    });
    const seen = new Set<string>();
    for (let i = 0; i < 20_000 && !done; i++) {
      for (const pid of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline) seen.add(cmdline.replaceAll('\0', ' '));
      }
    }
    await running;
    return [...seen];
  }

  it('never puts the password on a command line (curl reads a netrc)', async () => {
    const server = await startFtpServer(kind);
    servers.push(server);
    // The whole guest is one curl run: capped at 4 MB/s so that it runs for
    // about a second, long enough to be seen in /proc on a fast loopback.
    await node.writeConf(confFor(server), 'limit_rate=4M\n');
    const files = await node.backup(archiveName, 4_000_000);
    const running = runHook(['log-end', 'snapshot', '101'], guestEnv(node, 'ftp-staging', files));
    const cmdlines = await watchCommandLines(running);
    expect((await running).code).toBe(0);
    const curls = cmdlines.filter((c) => c.startsWith('curl '));
    expect(curls.length).toBeGreaterThan(0);
    expect(curls.some((c) => c.includes('--netrc-file'))).toBe(true);
    expect(cmdlines.filter((c) => c.includes(server.password))).toEqual([]);
  });

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsTls(kind)) {
    it('uploads over explicit FTPS trusting the NAS CA file', async () => {
      const server = await startFtpServer(kind, { tls: true });
      servers.push(server);
      const caFile = join(node.base, 'nas-ca.pem');
      await writeFile(caFile, server.certPem!);
      const conf = confFor(server);
      await node.writeConf({ ...conf, ftp: { ...conf.ftp, secure: true, caFile } });
      const files = await node.backup(archiveName, 100_000);
      const result = await runHook(
        ['log-end', 'snapshot', '101'],
        guestEnv(node, 'ftp-staging', files),
      );
      expect(result.code, result.output).toBe(0);
      const uploaded = await readFile(join(server.root, 'backup', 'pve1', 'transfer', archiveName));
      expect(uploaded.equals(files.archiveData)).toBe(true);
    });
  }

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsTls(kind)) {
    it('refuses an untrusted NAS certificate unless insecure is set', async () => {
      const server = await startFtpServer(kind, { tls: true });
      servers.push(server);
      const conf = confFor(server);
      await node.writeConf({ ...conf, ftp: { ...conf.ftp, secure: true } }, fastRetries);
      const files = await node.backup(archiveName, 1000);
      const refused = await runHook(
        ['log-end', 'snapshot', '101'],
        guestEnv(node, 'ftp-staging', files),
      );
      expect(refused.code).not.toBe(0);
      expect(refused.output).toMatch(/failed after 1 attempt\(s\): curl: \(60\)/);
      await node.writeConf({ ...conf, ftp: { ...conf.ftp, secure: true, insecure: true } });
      const accepted = await runHook(
        ['log-end', 'snapshot', '101'],
        guestEnv(node, 'ftp-staging', files),
      );
      expect(accepted.code, accepted.output).toBe(0);
    });
  }
});

describe('hook login with a hostile password (what curl sends, recorded)', () => {
  it.each([
    'dq"only',
    "sq'only",
    'sp ace',
    ' lead and trail ',
    'bs\\only',
    'back\\slash\\t-not-a-tab',
    '#starts-with-hash',
    '"starts-with-quote',
    'a$b`c`$(d)=e#f',
    'ünï ✓',
    'sp "and" quote\\',
  ])('sends %j exactly as configured', async (password) => {
    const recorder = await startLoginRecorder();
    const node = await fakeNode();
    try {
      const user = 'bk user';
      await node.writeConf(
        {
          node: 'pve1',
          storage: 'ftp-staging',
          uploadAt: 'log-end',
          ftp: {
            host: recorder.host,
            port: recorder.port,
            user,
            password,
            secure: false,
            dir: '/d',
          },
        },
        'retries=0\n',
      );
      const files = await node.backup(archiveName, 2000);
      const result = await runHook(
        ['log-end', 'snapshot', '101'],
        guestEnv(node, 'ftp-staging', files),
      );
      expect(result.output).toContain('curl: (67)');
      expect(result.output).not.toContain(password);
      expect(recorder.logins[0]).toEqual({ user, pass: password });
    } finally {
      await recorder.close();
      await node.close();
    }
  });
});

describe('hook stopped mid-upload (task stop: SIGTERM to the process group)', () => {
  it('exits non-zero and removes its private netrc dir', async () => {
    const recorder = await startLoginRecorder({ hang: true });
    const node = await fakeNode();
    const hookTmp = await mkdtemp(join(tmpdir(), 'pfb-hook-tmp-'));
    try {
      await node.writeConf({
        node: 'pve1',
        storage: 'ftp-staging',
        uploadAt: 'log-end',
        ftp: {
          host: recorder.host,
          port: recorder.port,
          user: 'u',
          password: 'p',
          secure: false,
          dir: '/d',
        },
      });
      const files = await node.backup(archiveName, 2000);
      const started = Date.now();
      const result = await runHook(
        ['log-end', 'snapshot', '101'],
        { ...guestEnv(node, 'ftp-staging', files), TMPDIR: hookTmp },
        20_000,
        800,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(recorder.logins).toHaveLength(1);
      expect(result.code === 143 || result.signal === 'SIGTERM').toBe(true);
      expect(await readdir(hookTmp)).toEqual([]);
    } finally {
      await recorder.close();
      await node.close();
      await rm(hookTmp, { recursive: true, force: true });
    }
  });
});

describe('hook killed hard (SIGKILL: a task stop 5 s after its SIGTERM, a curl stuck in I/O)', () => {
  it('leaves its netrc behind only until the next run, which removes it', async () => {
    const recorder = await startLoginRecorder({ hang: true });
    const node = await fakeNode();
    const hookTmp = await mkdtemp(join(tmpdir(), 'pfb-hook-tmp-'));
    try {
      await node.writeConf({
        node: 'pve1',
        storage: 'ftp-staging',
        uploadAt: 'log-end',
        ftp: {
          host: recorder.host,
          port: recorder.port,
          user: 'u',
          password: 'p',
          secure: false,
          dir: '/d',
        },
      });
      const files = await node.backup(archiveName, 2000);
      const env = { ...guestEnv(node, 'ftp-staging', files), TMPDIR: hookTmp };
      // The hook's pid is the group's (runHook detaches it): SIGKILL all of it mid-login.
      const killed = await runHook(
        ['log-end', 'snapshot', '101'],
        env,
        20_000,
        undefined,
        '(sleep 0.8; kill -9 -$$) &',
      );
      expect(killed.signal).toBe('SIGKILL');
      expect(recorder.logins).toHaveLength(1);
      expect(await readdir(hookTmp)).toHaveLength(1);
      const next = await runHook(['log-end', 'snapshot', '101'], env, 20_000, 800);
      expect(next.code === 143 || next.signal === 'SIGTERM').toBe(true);
      expect(recorder.logins).toHaveLength(2);
      expect(await readdir(hookTmp)).toEqual([]);
    } finally {
      await recorder.close();
      await node.close();
      await rm(hookTmp, { recursive: true, force: true });
    }
  });
});
