/**
 * The hook as vzdump runs it: the simulator's vzdump task (started by a real
 * POST over HTTPS) calls the script for every phase with vzdump's argv and
 * environment, and the script uploads to a real FTP server from the harness.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hookScriptPath } from '../../../src/hook/index.js';
import { archiveBasename } from '../../../src/sim/archive.js';
import {
  type PveSimulator,
  type SimFlavour,
  type SimGuest,
  startSimulator,
} from '../../../src/sim/index.js';
import {
  ftpServerKinds,
  startFtpServer,
  supportsQuota,
  type TestFtpServer,
} from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, fastRetries } from './hookRun.js';
import { SimClient, simToken, simUser } from './simClient.js';

const guests: SimGuest[] = [
  { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 200_000 },
  { vmid: 102, type: 'lxc', name: 'db', status: 'stopped', archiveSize: 70_000 },
];

describe.each(ftpServerKinds())('hook run by the simulated vzdump, FTP server %s', (kind) => {
  let ftp: TestFtpServer;
  let node: FakeNode;
  let hookTmp: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    ftp = await startFtpServer(kind);
    node = await fakeNode();
    hookTmp = await mkdtemp(join(tmpdir(), 'pfb-hook-tmp-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await ftp.close();
    await node.close();
    await rm(hookTmp, { recursive: true, force: true });
  });

  async function simulate(o: {
    flavour?: SimFlavour;
    backupDurationMs?: (g: SimGuest) => number;
  }): Promise<{ sim: PveSimulator; client: SimClient }> {
    const flavour = o.flavour ?? '9.1';
    const sim = await startSimulator({
      flavour,
      nodes: [
        {
          name: 'pve1',
          // PVE 3.x has OpenVZ containers, no LXC.
          guests: guests.map((g) => ({ ...g, type: flavour === '3.4' ? 'openvz' : g.type })),
          vzdumpConf: { script: hookScriptPath() },
          hookEnv: { PVE_FTP_BACKUP_HOOK_CONF: node.confPath, TMPDIR: hookTmp },
        },
      ],
      tokens: [simToken],
      users: [simUser],
      backupDurationMs: o.backupDurationMs ?? 50,
      authFailureDelayMs: 10,
    });
    cleanups.push(() => sim.close());
    const client = await SimClient.connect(sim, {
      kind: flavour === '3.4' ? 'ticket' : 'token',
    });
    cleanups.push(() => client.close());
    return { sim, client };
  }

  async function backup(client: SimClient, storage = 'ftp-staging', mode = 'snapshot') {
    const upid = await client.vzdump('pve1', {
      vmid: '101,102',
      storage,
      mode,
      compress: 'zstd',
    });
    return client.finish('pve1', upid);
  }

  const transferDir = (dir = 'backup') => join(ftp.root, dir, 'pve1', 'transfer');

  /** NAME.sha256 of each archive among `names`: the hook sends one beside each. */
  const withSums = (names: string[]) => [
    ...names,
    ...names.filter((n) => !n.endsWith('.log')).map((n) => `${n}.sha256`),
  ];

  /**
   * Every archive and .log in the node's dump dir must be on the NAS, byte for
   * byte, and each archive's NAME.sha256 (`<hex>  <NAME>`) beside it.
   */
  async function expectAllUploaded(sim: PveSimulator, transfer: string): Promise<string[]> {
    const local = (await readdir(sim.dumpDir('pve1'))).filter((n) => /\.(tar\.zst|log)$/.test(n));
    expect(local).toHaveLength(4);
    expect((await readdir(transfer)).sort()).toEqual(withSums(local).sort());
    for (const name of local) {
      const [mine, theirs] = await Promise.all([
        readFile(join(sim.dumpDir('pve1'), name)),
        readFile(join(transfer, name)),
      ]);
      expect(theirs.equals(mine), name).toBe(true);
      if (name.endsWith('.log')) continue;
      const hex = createHash('sha256').update(mine).digest('hex');
      expect(await readFile(join(transfer, `${name}.sha256`), 'utf8')).toBe(`${hex}  ${name}\n`);
    }
    return local;
  }

  function expectNoSecret(lines: string[]): void {
    const text = lines.join('\n');
    expect(text).not.toContain(ftp.password);
    expect(text).not.toContain(simToken.secret);
  }

  it('uploads every archive and log at log-end; the task stays OK; nothing secret in the task log', async () => {
    await node.writeConf(confFor(ftp));
    const { sim, client } = await simulate({});
    const { exitstatus, log } = await backup(client);
    expect(exitstatus, log.join('\n')).toBe('OK');
    const names = await expectAllUploaded(sim, transferDir());
    for (const name of names) {
      expect(log).toContainEqual(
        expect.stringMatching(`^INFO: pve-ftp-backup-hook: uploaded ${name} \\(`),
      );
    }
    // log-end runs after `Finished Backup`: the guest was released before the upload.
    const finished = log.findIndex((l) => l.includes('Finished Backup of VM 101'));
    const uploaded = log.findIndex((l) => l.includes('pve-ftp-backup-hook: uploaded'));
    expect(finished).toBeGreaterThan(-1);
    expect(uploaded).toBeGreaterThan(finished);
    expectNoSecret(log);
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it('works on PVE 3.4 (TARFILE, hook run through bash -c, ticket login)', async () => {
    await node.writeConf(confFor(ftp, { dir: '/NAS Backups/pve dump' }));
    const { sim, client } = await simulate({ flavour: '3.4' });
    const upid = await client.vzdump('pve1', { vmid: '101,102', storage: 'ftp-staging' });
    const { exitstatus, log } = await client.finish('pve1', upid);
    expect(exitstatus, log.join('\n')).toBe('OK');
    const local = await readdir(sim.dumpDir('pve1'));
    expect(local.filter((n) => /^vzdump-openvz-10[12]-.*\.(tar|log)$/.test(n))).toHaveLength(4);
    expect((await readdir(transferDir('NAS Backups/pve dump'))).sort()).toEqual(
      withSums(local).sort(),
    );
  });

  it('handles spaces and UTF-8 in the NAS dir', async () => {
    await node.writeConf(confFor(ftp, { dir: '/NAS Backups/pve dump ü' }));
    const { sim, client } = await simulate({});
    const { exitstatus, log } = await backup(client);
    expect(exitstatus, log.join('\n')).toBe('OK');
    await expectAllUploaded(sim, transferDir('NAS Backups/pve dump ü'));
  });

  it('leaves a backup to another storage alone (no upload, no hook output)', async () => {
    await node.writeConf(confFor(ftp));
    const { client } = await simulate({});
    const { exitstatus, log } = await backup(client, 'local');
    expect(exitstatus).toBe('OK');
    expect(log.filter((l) => l.includes('pve-ftp-backup-hook'))).toEqual([]);
    expect(await readdir(ftp.root)).toEqual([]);
  });

  it('FTP down at log-end: one clear line per guest, a task warning, the backups stay', async () => {
    await node.writeConf(confFor(ftp), fastRetries);
    await ftp.close();
    const { sim, client } = await simulate({});
    const { exitstatus, log } = await backup(client);
    // log-end cannot fail a backup; PVE >= 8.2.2 logs the failed hook as WARN.
    expect(exitstatus).toBe('WARNINGS: 2');
    const errors = log.filter((l) => l.includes('pve-ftp-backup-hook: ERROR'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(
      `to ftp://${ftp.host}:${ftp.port}/backup/pve1/transfer/ failed after 2 attempt(s): curl: (7)`,
    );
    expect((await readdir(sim.dumpDir('pve1'))).filter((n) => n.endsWith('.tar.zst'))).toHaveLength(
      2,
    );
    expectNoSecret(log);
  });

  it('wrong password: the reason is curl’s login error and the password is nowhere', async () => {
    const wrong = 'n0t-$(the)-`right`-"one"';
    const conf = confFor(ftp);
    await node.writeConf({ ...conf, ftp: { ...conf.ftp, password: wrong } }, fastRetries);
    const { client } = await simulate({});
    const { log } = await backup(client);
    const errors = log.filter((l) => l.includes('pve-ftp-backup-hook: ERROR'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/failed after 1 attempt\(s\): curl: \(67\)/);
    expect(log.join('\n')).not.toContain(wrong);
    expectNoSecret(log);
  });

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsQuota(kind)) {
    it('disk full: the upload fails clearly and nothing is renamed into place', async () => {
      await ftp.close();
      ftp = await startFtpServer(kind, { quotaBytes: 150_000 });
      await node.writeConf(confFor(ftp), 'retries=0\n');
      const { client } = await simulate({});
      const { log } = await backup(client);
      const errors = log.filter((l) =>
        l.includes('pve-ftp-backup-hook: ERROR: upload of vzdump-lxc-101'),
      );
      expect(errors).toHaveLength(1);
      const names = await readdir(transferDir());
      expect(names.filter((n) => n.startsWith('vzdump-lxc-101') && n.endsWith('.tar.zst'))).toEqual(
        [],
      );
    });
  }

  it('a stale larger .part on the NAS is deleted and re-uploaded, not renamed into place', async () => {
    await node.writeConf(confFor(ftp));
    const stale = Buffer.alloc(guests[0]!.archiveSize + 5000, 0x5a);
    const { sim, client } = await simulate({
      // Called as the archive starts, a moment after vzdump chose its name:
      // seed a stale .part under the names of this second and the one before.
      backupDurationMs: (g) => {
        if (g.vmid === 101) {
          mkdirSync(transferDir(), { recursive: true });
          for (const at of [Date.now(), Date.now() - 1000]) {
            const name = `${archiveBasename('lxc', 101, new Date(at))}.tar.zst.part`;
            writeFileSync(join(transferDir(), name), stale);
          }
        }
        return 50;
      },
    });
    const { exitstatus, log } = await backup(client);
    expect(exitstatus, log.join('\n')).toBe('OK');
    const archive = (await readdir(sim.dumpDir('pve1'))).find((n) =>
      /^vzdump-lxc-101-.*\.tar\.zst$/.test(n),
    )!;
    const onNas = await readFile(join(transferDir(), archive));
    expect(onNas.equals(await readFile(join(sim.dumpDir('pve1'), archive)))).toBe(true);
    expect(await readdir(transferDir())).not.toContain(`${archive}.part`);
  });

  it('backup-end mode: the archive goes up before the guest is released', async () => {
    await node.writeConf(confFor(ftp, { uploadAt: 'backup-end' }));
    const { sim, client } = await simulate({});
    const { exitstatus, log } = await backup(client);
    expect(exitstatus, log.join('\n')).toBe('OK');
    await expectAllUploaded(sim, transferDir());
    const uploaded = log.findIndex((l) => /hook: uploaded vzdump-lxc-101-.*\.tar\.zst/.test(l));
    const finished = log.findIndex((l) => l.includes('Finished Backup of VM 101'));
    expect(uploaded).toBeGreaterThan(-1);
    expect(uploaded).toBeLessThan(finished);
  });

  it('backup-end mode: a failed upload fails the guest and the task', async () => {
    await node.writeConf(confFor(ftp, { uploadAt: 'backup-end' }), fastRetries);
    await ftp.close();
    const { client } = await simulate({});
    const { exitstatus, log } = await backup(client);
    expect(exitstatus).toBe('job errors');
    expect(log).toContainEqual(
      expect.stringMatching(
        /^ERROR: Backup of VM 101 failed - command '.*backup-end snapshot 101' failed: exit code 1$/,
      ),
    );
    expect(log).toContainEqual(
      expect.stringMatching(
        /^ERROR: Backup of VM 102 failed - command '.*backup-end stop 102' failed: exit code 1$/,
      ),
    );
    expectNoSecret(log);
  });
});
