/**
 * How long `status` takes to read a NAS of 100 node trees × 10 generations
 * (one manifest of 10 guests per generation), through the same reader the
 * command uses (src/status/nasTrees.ts: one session per tree, 8 at once).
 * Run: npx vitest run --config bench/status-nas.config.ts
 * Servers: PVE_FTP_BACKUP_TEST_SERVERS=embedded,vsftpd,pure-ftpd,proftpd (default embedded).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { readNasTrees } from '../src/status/nasTrees.js';
import { ftpServerKinds, startFtpServer, type TestFtpServer } from '../test/support/ftpServers.js';

const NODES = Number(process.env.BENCH_NODES ?? 100);
const GENERATIONS = Number(process.env.BENCH_GENERATIONS ?? 10);
const GUESTS = 10;
const DIR = '/dump';

async function seed(root: string): Promise<void> {
  for (let n = 0; n < NODES; n++) {
    const node = `pve${n}`;
    for (let g = 0; g < GENERATIONS; g++) {
      const dir = join(root, DIR, node, `daily.${g}`);
      await mkdir(dir, { recursive: true });
      const guests = Array.from({ length: GUESTS }, (_, i) => {
        const vmid = 100 + n * GUESTS + i;
        const name = `vzdump-lxc-${vmid}-2026_12_0${(g % 9) + 1}-02_00_00.tar.zst`;
        return {
          vmid,
          type: 'lxc',
          name: `ct${vmid}`,
          status: 'saved',
          durationMs: 60_000,
          files: [{ name, size: 1000 }],
        };
      });
      const finishedAt = new Date(Date.UTC(2026, 11, 4 - g, 2, 30)).toISOString();
      const manifest = {
        version: 1,
        runId: `r${g}`,
        node,
        cluster: 'bench',
        pveVersion: '9.1.1',
        startedAt: finishedAt,
        finishedAt,
        guests,
      };
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      for (const guest of guests)
        await writeFile(join(dir, guest.files[0]!.name), 'x'.repeat(1000));
    }
  }
}

const servers: TestFtpServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe.each(ftpServerKinds())('status reading %s', (kind) => {
  it(`reads ${NODES} nodes × ${GENERATIONS} generations`, async () => {
    const server = await startFtpServer(kind);
    servers.push(server);
    await seed(server.root);
    const ftp = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: false,
      dir: DIR,
      insecure: false,
    };
    const t0 = performance.now();
    const result = await readNasTrees(ftp, { logger: silentLogger() });
    const seconds = (performance.now() - t0) / 1000;
    expect(result.problems).toEqual([]);
    expect(result.trees).toHaveLength(NODES);
    expect(result.trees.every((t) => t.generations.length === GENERATIONS)).toBe(true);
    process.stdout.write(
      `\n[status bench] ${kind}: ${NODES} nodes × ${GENERATIONS} generations (${NODES * GENERATIONS} manifests) read in ${seconds.toFixed(1)} s\n`,
    );
  });
});
