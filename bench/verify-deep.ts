/**
 * `verify --deep` throughput beside a plain FTP download and sha256 of the same
 * archive on loopback: a real 1 GiB zstd LXC archive (the simulator's writer),
 * its manifest with the node's sha256, served by the FTP server under test.
 * Run: npx vitest run --config bench/verify-deep.config.ts
 * (BENCH_VERIFY_BYTES to change the size; PVE_FTP_BACKUP_TEST_SERVERS for the servers.)
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openNasSession } from '../src/ftp/session.js';
import { silentLogger } from '../src/log.js';
import { writeRealArchive } from '../src/sim/archive.js';
import { verifyTree } from '../src/verify/verifyTree.js';
import { ftpServerKinds, startFtpServer, type TestFtpServer } from '../test/support/ftpServers.js';
import { oneArchiveManifest } from '../test/support/oneArchiveManifest.js';

const BYTES = Number(process.env.BENCH_VERIFY_BYTES ?? 1024 ** 3);
const NAME = 'vzdump-lxc-101-2026_12_04-02_00_00.tar.zst';
const mbps = (bytes: number, ms: number) => Math.round(bytes / 1e6 / (ms / 1000));

const servers: TestFtpServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.each(ftpServerKinds())('verify --deep on %s', (kind) => {
  it(`reads back ${BYTES} bytes`, async () => {
    const server = await startFtpServer(kind);
    servers.push(server);
    const dir = join(server.root, 'dump', 'pve1', 'daily.0');
    await mkdir(dir, { recursive: true });
    const file = join(dir, NAME);
    expect(await writeRealArchive(file, 'lxc', 'zstd', 101, BYTES)).toBe(true);
    let t = performance.now();
    const hash = createHash('sha256');
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash);
    const sha256 = hash.digest('hex');
    const shaMs = performance.now() - t;
    await writeFile(
      join(dir, 'manifest.json'),
      oneArchiveManifest({ name: NAME, size: BYTES, sha256 }),
    );
    await writeFile(join(dir, `${NAME}.sha256`), `${sha256}  ${NAME}\n`);
    const settings = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: false,
    };
    const fs = await openNasSession(settings, silentLogger());
    try {
      t = performance.now();
      await fs.download(
        `/dump/pve1/daily.0/${NAME}`,
        new Writable({ write: (_c, _e, cb) => cb() }),
      );
      const downloadMs = performance.now() - t;
      const rss0 = process.memoryUsage().rss;
      t = performance.now();
      const v = await verifyTree(fs, '/dump/pve1', 'pve1', { vmids: [], deep: true });
      const verifyMs = performance.now() - t;
      const rss = process.memoryUsage().rss;
      expect(v.files.every((f) => f.ok)).toBe(true);
      const floor = Math.min(mbps(BYTES, downloadMs), mbps(BYTES, shaMs));
      process.stdout.write(
        `\n[verify bench] ${kind}, ${BYTES} B zstd: verify --deep ${mbps(BYTES, verifyMs)} MB/s; plain download ${mbps(BYTES, downloadMs)} MB/s; sha256 ${mbps(BYTES, shaMs)} MB/s; ratio to min(download, sha256) ${(mbps(BYTES, verifyMs) / floor).toFixed(2)}; RSS ${Math.round(rss0 / 1e6)} → ${Math.round(rss / 1e6)} MB\n`,
      );
    } finally {
      fs.close();
    }
  });
});
