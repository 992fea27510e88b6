/**
 * `hook fetch [--from-node N] GENERATION FILE`, run as an admin would on the
 * node a guest is restored to, against a real FTP server: the archive lands
 * in the staging storage's dump dir (found through `pvesm path`, here a
 * stand-in named by PVE_FTP_BACKUP_HOOK_PVESM: the hook resets PATH) only
 * after its size and sha256 match; anything wrong is one error line and no
 * file under the vzdump name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ftpServerKinds,
  startFtpServer,
  supportsTls,
  type TestFtpServer,
} from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, fastRetries, runHook } from './hookRun.js';

const FILE = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';

describe.each(ftpServerKinds())('hook fetch, FTP server %s', (kind) => {
  let server: TestFtpServer;
  let node: FakeNode;
  let hookTmp: string;
  let pvesm: string;

  beforeEach(async () => {
    server = await startFtpServer(kind);
    node = await fakeNode();
    hookTmp = await mkdtemp(join(tmpdir(), 'pfb-fetch-tmp-'));
    // `pvesm path ftp-staging:backup/FILE` answers the node's dump dir, like PVE.
    pvesm = join(node.base, 'pvesm');
    await writeFile(
      pvesm,
      `#!/bin/sh\ncase $2 in ftp-staging:backup/*) printf '%s/%s\\n' '${node.dumpDir}' "\${2#*:backup/}" ;; *) echo "storage '\${2%%:*}' does not exist" >&2; exit 255 ;; esac\n`,
    );
    await chmod(pvesm, 0o755);
    await node.writeConf(confFor(server), fastRetries);
  });
  afterEach(async () => {
    await server.close();
    await node.close();
    await rm(hookTmp, { recursive: true, force: true });
  });

  /** Puts FILE (and its .sha256 unless `sha` is null) into `{root}/backup/{node}/{gen}/`. */
  async function onNas(
    data: Buffer,
    o: { node?: string; gen?: string; sha?: string | null } = {},
  ): Promise<void> {
    const dir = join(server.root, 'backup', o.node ?? 'pve1', o.gen ?? 'daily.0');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, FILE), data);
    const hex = o.sha === undefined ? createHash('sha256').update(data).digest('hex') : o.sha;
    if (hex !== null) await writeFile(join(dir, `${FILE}.sha256`), `${hex}  ${FILE}\n`);
  }

  function fetch(args: string[], extraEnv: Record<string, string> = {}) {
    return runHook(['fetch', ...args], {
      PVE_FTP_BACKUP_HOOK_CONF: node.confPath,
      PVE_FTP_BACKUP_HOOK_PVESM: pvesm,
      TMPDIR: hookTmp,
      ...extraEnv,
    });
  }

  it('downloads the archive into the dump dir under its vzdump name after checking size and sha256', async () => {
    const data = randomBytes(300_000);
    await onNas(data);
    const r = await fetch(['daily.0', FILE]);
    expect(r.code, r.output).toBe(0);
    expect(await readdir(node.dumpDir)).toEqual([FILE]);
    expect((await readFile(join(node.dumpDir, FILE))).equals(data)).toBe(true);
    expect(r.output).toMatch(
      new RegExp(
        `^pve-ftp-backup-hook: fetched ${FILE.replace(/\./g, '\\.')} \\(300000 bytes, sha256 matches\\) from ftp://.*/backup/pve1/daily\\.0/ into ${node.dumpDir}/\\n$`,
      ),
    );
    expect(r.output).not.toContain(server.password);
    expect(await readdir(hookTmp)).toEqual([]);
  });

  it("fetches from another node's tree with --from-node", async () => {
    const data = randomBytes(5000);
    await onNas(data, { node: 'pve2', gen: 'weekly.1' });
    const r = await fetch(['--from-node', 'pve2', 'weekly.1', FILE]);
    expect(r.code, r.output).toBe(0);
    expect((await readFile(join(node.dumpDir, FILE))).equals(data)).toBe(true);
  });

  it('keeps nothing when the sha256 differs (a corrupt copy), with one error line', async () => {
    await onNas(randomBytes(20_000), { sha: 'ab'.repeat(32) });
    const r = await fetch(['daily.0', FILE]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      new RegExp(
        `^pve-ftp-backup-hook: ERROR: ${FILE.replace(/\./g, '\\.')} from ftp://\\S+ has sha256 [0-9a-f]{64}, its \\.sha256 says (ab){32}; not kept\\n$`,
      ),
    );
    expect(await readdir(node.dumpDir)).toEqual([]);
  });

  it('checks the size only when the NAS has no .sha256 (an older hook), and says so', async () => {
    await onNas(randomBytes(7000), { sha: null });
    const r = await fetch(['daily.0', FILE]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('(7000 bytes, no .sha256 on the NAS: size checked only)');
    expect(await readdir(node.dumpDir)).toEqual([FILE]);
  });

  it('refuses to overwrite an existing file of that name, touching nothing', async () => {
    await onNas(randomBytes(1000));
    await writeFile(join(node.dumpDir, FILE), 'mine');
    const r = await fetch(['daily.0', FILE]);
    expect(r.code).toBe(1);
    expect(r.output).toBe(
      `pve-ftp-backup-hook: ERROR: ${join(node.dumpDir, FILE)} exists already; not overwritten (remove it first to fetch again)\n`,
    );
    expect(await readFile(join(node.dumpDir, FILE), 'utf8')).toBe('mine');
    expect(await readdir(node.dumpDir)).toEqual([FILE]);
  });

  it('names a file the NAS does not have', async () => {
    const r = await fetch(['daily.3', FILE]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /^pve-ftp-backup-hook: ERROR: vzdump-\S+ is not in ftp:\/\/\S+\/backup\/pve1\/daily\.3\/\n$/,
    );
    expect(await readdir(node.dumpDir)).toEqual([]);
  });

  it('refuses bad arguments with exit 2 before any connection', async () => {
    for (const [args, what] of [
      [['daily.0'], 'expected GENERATION and FILE'],
      [['daily.x', FILE], "'daily.x' is not a generation"],
      [['../daily.0', FILE], "'../daily.0' is not a generation"],
      [['daily.0', `../${FILE}`], 'is not the name of a vzdump archive'],
      [['daily.0', 'hook.conf'], "'hook.conf' is not the name of a vzdump archive"],
      [['--from-node', '../x', 'daily.0', FILE], "--from-node '../x' is not a node name"],
    ] as const) {
      const r = await fetch([...args]);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(what);
      expect(r.output.trim().split('\n')).toHaveLength(1);
    }
  });

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsTls(kind)) {
    it('fetches over explicit FTPS trusting the NAS CA file, and refuses an untrusted certificate', async () => {
      const tlsServer = await startFtpServer(kind, { tls: true });
      try {
        const dir = join(tlsServer.root, 'backup', 'pve1', 'daily.0');
        await mkdir(dir, { recursive: true });
        const data = randomBytes(50_000);
        await writeFile(join(dir, FILE), data);
        const conf = confFor(tlsServer);
        await node.writeConf({ ...conf, ftp: { ...conf.ftp, secure: true } }, fastRetries);
        const untrusted = await fetch(['daily.0', FILE]);
        expect(untrusted.code).toBe(1);
        expect(untrusted.output).toMatch(
          /^pve-ftp-backup-hook: ERROR: cannot read the size of .*: curl: \((60|77|35)\)/,
        );
        expect(await readdir(node.dumpDir)).toEqual([]);
        const caFile = join(node.base, 'nas-ca.pem');
        await writeFile(caFile, tlsServer.certPem!);
        await node.writeConf({ ...conf, ftp: { ...conf.ftp, secure: true, caFile } }, fastRetries);
        const r = await fetch(['daily.0', FILE]);
        expect(r.code, r.output).toBe(0);
        expect((await readFile(join(node.dumpDir, FILE))).equals(data)).toBe(true);
        expect(r.output).not.toContain(tlsServer.password);
      } finally {
        await tlsServer.close();
      }
    });
  }

  it('reports a storage pvesm does not know', async () => {
    await node.writeConf({ ...confFor(server), storage: 'nope' }, fastRetries);
    const r = await fetch(['daily.0', FILE]);
    expect(r.code).toBe(1);
    expect(r.output).toBe(
      `pve-ftp-backup-hook: ERROR: pvesm path nope:backup/${FILE} failed: storage 'nope' does not exist\n`,
    );
  });
});
