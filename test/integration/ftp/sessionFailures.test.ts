import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NasError } from '../../../src/ftp/errors.js';
import { openNasSession } from '../../../src/ftp/session.js';
import { silentLogger } from '../../../src/log.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

// Apart from session.test.ts so the two halves run in parallel: pure-ftpd sleeps
// seconds before it answers a wrong password.
describe.each(modes())('FTP session failures on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  it('fails login with a NasError naming the host, never the password', async () => {
    // pure-ftpd sleeps ~3 s (more with TLS) before it answers a wrong password: wait for it.
    const error = await sessions
      .open(server, tls, { settings: { password: `${server.password}-wrong`, timeoutMs: 15_000 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NasError);
    const e = error as NasError;
    expect(e.operation).toBe('connect');
    expect(e.failure).toBe('refused');
    expect(e.ftpCode).toBe(530);
    expect(e.message).toContain(`${server.host}:${server.port}`);
    expect(e.message).not.toContain(server.password);
  });

  it('closes on abort: the next call fails as aborted', async () => {
    const controller = new AbortController();
    const fs = await sessions.open(server, tls, { signal: controller.signal });
    await fs.mkdirp(freshDir());
    controller.abort();
    await expect(fs.list('/')).rejects.toMatchObject({ failure: 'aborted' });
    await expect(sessions.open(server, tls, { signal: AbortSignal.abort() })).rejects.toMatchObject(
      { failure: 'aborted', operation: 'connect' },
    );
  });

  it('fails after close()', async () => {
    const fs = await sessions.open(server, tls);
    fs.close();
    await expect(fs.size('/x')).rejects.toMatchObject({ failure: 'closed' });
  });
});

describe.each(modes().filter((m) => m.tls))('FTPS certificate checks on $label', ({ kind }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls: true });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  it('verifies the NAS certificate unless told otherwise', async () => {
    const noCa = await sessions
      .open(server, true, { settings: { caPem: undefined } })
      .catch((e: unknown) => e);
    expect(noCa).toBeInstanceOf(NasError);
    expect((noCa as NasError).failure).toBe('connection');
    const insecure = await sessions.open(server, true, {
      settings: { caPem: undefined, insecure: true },
    });
    expect(await insecure.list('/')).toBeDefined();
  });
});

describe('FTP session against a server that never answers', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never greets: a hung NAS.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const settings = () => ({
    host: '127.0.0.1',
    port,
    user: 'u',
    password: 'secret-pw',
    secure: false,
    timeoutMs: 10_000,
  });

  it('gives up on abort at once, not at the timeout', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await openNasSession(settings(), silentLogger(), controller.signal).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NasError);
    expect((error as NasError).failure).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails with a connection error at the timeout', async () => {
    const error = await openNasSession({ ...settings(), timeoutMs: 300 }, silentLogger()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ failure: 'connection', operation: 'connect' });
    expect((error as Error).message).not.toContain('secret-pw');
  });
});
