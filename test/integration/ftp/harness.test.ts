import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ftpServerKinds,
  startFtpServer,
  supportsQuota,
  type TestFtpServer,
} from '../../support/ftpServers.js';

// What other test files rely on from the harness, checked on every selected kind.
describe.each(ftpServerKinds())('harness server %s', (kind) => {
  let server: TestFtpServer | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function login(s: TestFtpServer): Promise<Client> {
    const c = new Client(10_000);
    clients.push(c);
    await c.access({ host: s.host, port: s.port, user: s.user, password: s.password });
    return c;
  }

  it('serves a fresh, empty root where seeded files can be renamed and removed', async () => {
    server = await startFtpServer(kind);
    expect(await readdir(server.root)).toEqual([]);
    // Seeded by the test process (root in CI), then changed over FTP by the server's user.
    await mkdir(join(server.root, 'node', 'daily.0'), { recursive: true });
    await writeFile(join(server.root, 'node', 'daily.0', 'a.tar'), 'a');
    const c = await login(server);
    await c.rename('/node/daily.0', '/node/daily.1');
    await c.uploadFrom(Readable.from([Buffer.from('b')]), '/node/daily.1/b.tar');
    await c.removeDir('/node/daily.1');
    expect(await readdir(join(server.root, 'node'))).toEqual([]);
  });

  it('gives each server its own root and password', async () => {
    server = await startFtpServer(kind);
    const other = await startFtpServer(kind);
    try {
      expect(other.root).not.toBe(server.root);
      expect(other.password).not.toBe(server.password);
      const c = new Client(10_000);
      clients.push(c);
      await expect(
        c.access({
          host: other.host,
          port: other.port,
          user: other.user,
          password: server.password,
        }),
      ).rejects.toThrow();
    } finally {
      await other.close();
    }
  });

  it.each(supportsQuota(kind) ? [true] : [])(
    'refuses an upload past quotaBytes (a full disk)',
    async () => {
      server = await startFtpServer(kind, { quotaBytes: 64 * 1024 });
      const c = await login(server);
      await c.uploadFrom(Readable.from([Buffer.alloc(16 * 1024)]), '/small.bin');
      const big = Readable.from(Array.from({ length: 16 }, () => Buffer.alloc(16 * 1024)));
      await expect(c.uploadFrom(big, '/big.bin')).rejects.toThrow();
    },
  );

  it.each(supportsQuota(kind) ? [] : [true])('refuses quotaBytes it cannot enforce', async () => {
    await expect(startFtpServer(kind, { quotaBytes: 1024 })).rejects.toThrow(/not supported/);
  });
});
