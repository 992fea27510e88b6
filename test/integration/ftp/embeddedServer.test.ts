import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';

// The embedded server must behave like a NAS where our logic depends on it.
describe('embedded FTP server', () => {
  let server: TestFtpServer | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function connect(s: TestFtpServer): Promise<Client> {
    const client = new Client(5000);
    clients.push(client);
    await client.access({ host: s.host, port: s.port, user: s.user, password: s.password });
    return client;
  }

  it('serves the root dir over passive data connections', async () => {
    server = await startFtpServer('embedded');
    await writeFile(join(server.root, 'seed.txt'), 'hello');
    const client = await connect(server);
    const names = (await client.list('/')).map((e) => e.name);
    expect(names).toEqual(['seed.txt']);
    await client.uploadFrom(Readable.from([Buffer.from('up')]), '/up.txt');
    expect(await readFile(join(server.root, 'up.txt'), 'utf8')).toBe('up');
  });

  it('refuses a wrong password', async () => {
    server = await startFtpServer('embedded');
    const client = new Client(5000);
    clients.push(client);
    await expect(
      client.access({ host: server.host, port: server.port, user: server.user, password: 'nope' }),
    ).rejects.toThrow();
  });

  it('fails MKD of an existing directory, as real servers do', async () => {
    server = await startFtpServer('embedded');
    const client = await connect(server);
    await client.send('MKD /lockdir');
    const error = await client.send('MKD /lockdir').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FTPError);
    expect((error as FTPError).code).toBe(550);
  });

  it('refuses writes past the quota, keeping what fitted', async () => {
    server = await startFtpServer('embedded', { quotaBytes: 1000 });
    await writeFile(join(server.root, 'old.bin'), Buffer.alloc(400));
    const client = await connect(server);
    const upload = client.uploadFrom(
      Readable.from([Buffer.alloc(500), Buffer.alloc(500)]),
      '/big.bin',
    );
    await expect(upload).rejects.toThrow(/space/i);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const client2 = await connect(server);
    expect(await client2.size('/big.bin')).toBe(600);
    await client2.downloadTo(sink, '/old.bin');
  });

  it('does not install SIGINT handlers that would exit the process', async () => {
    const before = process.listenerCount('SIGINT');
    server = await startFtpServer('embedded');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('drops client control connections on request', async () => {
    server = await startFtpServer('embedded');
    const client = await connect(server);
    expect(await server.dropClients()).toBe(1);
    await expect.poll(() => client.closed, { timeout: 2000 }).toBe(true);
  });
});
