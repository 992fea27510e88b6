/**
 * What the hook costs the NAS per guest, counted by a relay in front of the
 * control port: a cheap NAS limits connections and throttles logins, so the
 * whole guest (archive, NAME.sha256, log) must stay one login with no CWD.
 * The budget is exact where it matters (logins, CWD) and a ceiling for the
 * rest, so that a change that adds requests shows up here.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FtpRelay, startFtpRelay, verbOf } from '../../support/ftpRelay.js';
import {
  ftpServerKinds,
  startFtpServer,
  supportsTls,
  type TestFtpServer,
} from '../../support/ftpServers.js';
import { confFor, type FakeNode, fakeNode, fastRetries, guestEnv, runHook } from './hookRun.js';

const archiveName = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';
const logName = 'vzdump-lxc-101-2026_11_30-02_00_05.log';

/** A byte-transparent loopback pipe to the control port that counts connections. */
async function startConnectionCounter(target: { host: string; port: number }) {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    count += 1;
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Commands counted by verb, e.g. { USER: 1, STOR: 3 }. */
function byVerb(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) counts[verbOf(line)] = (counts[verbOf(line)] ?? 0) + 1;
  return counts;
}

describe.each(ftpServerKinds())('hook FTP budget per guest, FTP server %s', (kind) => {
  let server: TestFtpServer;
  let relay: FtpRelay | undefined;
  let closeCounter: (() => Promise<void>) | undefined;
  let node: FakeNode;

  beforeEach(async () => {
    server = await startFtpServer(kind);
    node = await fakeNode();
  });
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await closeCounter?.();
    closeCounter = undefined;
    await server.close();
    await node.close();
  });

  /** transfer/ as the tool leaves it for the hooks: made when the node run starts. */
  const prepareTransfer = () =>
    mkdir(join(server.root, 'backup', 'pve1', 'transfer'), { recursive: true });

  async function runGuest(
    onCommand?: (line: string) => 'forward' | 'hold',
    extraEnv: Record<string, string> = {},
    o: { prepared?: boolean } = {},
  ) {
    if (o.prepared ?? true) await prepareTransfer();
    const r = await startFtpRelay({ host: server.host, port: server.port }, onCommand);
    relay = r;
    const conf = confFor(server);
    await node.writeConf({ ...conf, ftp: { ...conf.ftp, port: r.port } }, fastRetries);
    const files = await node.backup(archiveName, 200_000);
    const env = { ...guestEnv(node, 'ftp-staging', files), ...extraEnv };
    const result = await runHook(['log-end', 'snapshot', '101'], env);
    expect(result.code, result.output).toBe(0);
    return { verbs: byVerb(r.commands), output: result.output, files };
  }

  it('uploads archive, .sha256 and log over one login, without CWD', async () => {
    const { verbs } = await runGuest();
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    expect((await readdir(transfer)).length).toBe(3);
    expect(verbs.USER).toBe(1);
    expect(verbs.PASS).toBe(1);
    expect(verbs.CWD ?? 0).toBe(0);
    // One STOR (or APPE, when resuming) per file, one checked rename per file.
    expect((verbs.STOR ?? 0) + (verbs.APPE ?? 0)).toBe(3);
    expect(verbs.RNFR).toBe(1 * 3);
    expect(verbs.RNTO).toBe(3);
    // Per file: EPSV and STOR for the upload (plus TYPE once and the
    // archive's resume SIZE); EPSV, SIZE, RNFR, RNTO for the check; plus
    // USER, PASS, PWD and QUIT: 24 on every server kind with curl 7.88 (the
    // hook it replaced made 8 logins). No MKD: the tool made transfer/.
    expect(verbs.MKD ?? 0).toBe(0);
    const total = Object.values(verbs).reduce((a, b) => a + b, 0);
    expect(total, JSON.stringify(verbs)).toBeLessThanOrEqual(24);
  });

  it('starts curl once per guest (no version probe before the upload)', async () => {
    const runs = join(node.base, 'curl-runs');
    const countingCurl = join(node.base, 'counting-curl');
    await writeFile(countingCurl, `#!/bin/sh\necho run >>'${runs}'\nexec curl "$@"\n`, {
      mode: 0o755,
    });
    await runGuest(undefined, { PVE_FTP_BACKUP_HOOK_CURL: countingCurl });
    expect((await readFile(runs, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('makes a missing transfer/ itself, at the cost of one more login (vzdump run by hand)', async () => {
    const { verbs, output, files } = await runGuest(undefined, {}, { prepared: false });
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    expect((await readdir(transfer)).sort()).toEqual(
      [archiveName, `${archiveName}.sha256`, logName].sort(),
    );
    // The first upload is refused (no such dir); the session is run again at once with one
    // MKD per level (backup, pve1, transfer), not counted as a failed attempt.
    expect(verbs.USER).toBe(2);
    expect(verbs.MKD).toBe(3);
    expect(output).not.toContain('ERROR');
    expect(output.match(/uploaded /g)).toHaveLength(2);
  });

  it('retries a session cut after the archive is in place from the next file only', async () => {
    let cut = false;
    const { verbs, output, files } = await runGuest((line) => {
      // The log's rename: archive and .sha256 are in place by then.
      if (!cut && line.startsWith('RNFR ') && line.endsWith('.log.part')) {
        cut = true;
        void server.dropClients();
        return 'hold';
      }
      return 'forward';
    });
    expect(cut).toBe(true);
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    expect((await readFile(join(transfer, logName))).equals(files.logData)).toBe(true);
    // Two logins; the archive went up once, the log twice.
    expect(verbs.USER).toBe(2);
    expect(verbs.STOR).toBe(4);
    expect(output.match(/uploaded /g)).toHaveLength(2);
    expect(output).not.toContain('ERROR');
  });

  it('with a curl too old to chain requests, makes one run per request and keeps every check', async () => {
    // A stale larger .part of the archive: the serial check must refuse it too.
    const transfer = join(server.root, 'backup', 'pve1', 'transfer');
    await mkdir(transfer, { recursive: true });
    await writeFile(join(transfer, `${archiveName}.part`), Buffer.alloc(250_000, 7));
    // curl < 7.52 (PVE 3.x-4.x) refuses --fail-early before it connects, as this stand-in does.
    const oldCurl = join(node.base, 'old-curl');
    await writeFile(
      oldCurl,
      [
        '#!/bin/sh',
        'for a in "$@"; do',
        '  case $a in --fail-early | --next)',
        '    echo "curl: option $a: is unknown" >&2',
        "    echo \"curl: try 'curl --help' or 'curl --manual' for more information\" >&2",
        '    exit 2 ;;',
        '  esac',
        'done',
        'exec curl "$@"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const { verbs, files, output } = await runGuest(undefined, {
      PVE_FTP_BACKUP_HOOK_CURL: oldCurl,
    });
    expect(output).not.toContain('ERROR');
    expect((await readFile(join(transfer, archiveName))).equals(files.archiveData)).toBe(true);
    expect((await readdir(transfer)).sort()).toEqual(
      [archiveName, `${archiveName}.sha256`, logName].sort(),
    );
    // Upload + check per file, plus the stale archive's failed check and
    // its second upload (which deletes the .part first).
    expect(verbs.USER).toBe(2 * 3 + 2);
    expect(verbs.DELE).toBe(1);
    expect(verbs.CWD ?? 0).toBe(0);
  });

  // Only where the server can do it; the capability is covered on the kinds that can.
  if (supportsTls(kind)) {
    it('keeps the one login over explicit FTPS (curl reuses the TLS connection)', async () => {
      await server.close();
      server = await startFtpServer(kind, { tls: true });
      // The command relay holds bytes back until a CRLF, which would stall a
      // TLS handshake: count the control connections with a plain pipe.
      const r = await startConnectionCounter({ host: server.host, port: server.port });
      closeCounter = r.close;
      const caFile = join(node.base, 'nas-ca.pem');
      await writeFile(caFile, server.certPem!);
      const conf = confFor(server);
      await node.writeConf(
        { ...conf, ftp: { ...conf.ftp, port: r.port, secure: true, caFile } },
        fastRetries,
      );
      await prepareTransfer();
      const files = await node.backup(archiveName, 200_000);
      const result = await runHook(
        ['log-end', 'snapshot', '101'],
        guestEnv(node, 'ftp-staging', files),
      );
      expect(result.code, result.output).toBe(0);
      const transfer = join(server.root, 'backup', 'pve1', 'transfer');
      expect((await readdir(transfer)).length).toBe(3);
      // vsftpd answers about every other TLS upload from curl 7.88 with
      // "426 Failure reading network stream" (the hook before this one hit it
      // as often): that costs one retry, i.e. one more login.
      const allowed = kind === 'vsftpd' ? 2 : 1;
      expect(r.connections(), result.output).toBeGreaterThanOrEqual(1);
      expect(r.connections(), result.output).toBeLessThanOrEqual(allowed);
    });
  }
});
