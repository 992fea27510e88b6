/**
 * A NAS that stops answering (connection open, no reply) behind a loopback
 * relay: the session's command waits its timeout, the one reconnect waits
 * its own, then the session is gone — `gone` fires and every later command
 * fails at once — and the lock release's last attempt gets a short timeout.
 * Plain FTP only: the relay sees the control connection, FTPS hides it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NasError } from '../../../src/ftp/errors.js';
import { type FtpRelay, startFtpRelay } from '../../support/ftpRelay.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

const TIMEOUT = 700;

describe.each(modes().filter((m) => !m.tls))('a silent NAS on $label', ({ kind }) => {
  let server: TestFtpServer;
  let relay: FtpRelay;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind);
  });
  afterEach(async () => {
    sessions.closeAll();
    await relay?.close();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('fails one command after its timeout and the reconnect, then fails fast and fires gone', async () => {
    relay = await startFtpRelay({ host: server.host, port: server.port });
    const fs = await sessions.open(server, false, {
      settings: { port: relay.port, timeoutMs: TIMEOUT },
    });
    const dir = freshDir('silent');
    await fs.mkdirp(dir);
    relay.silence();

    const t0 = Date.now();
    const error = await fs.list(dir).catch((e: unknown) => e);
    const waited = Date.now() - t0;
    expect(error).toBeInstanceOf(NasError);
    expect((error as NasError).failure).toBe('connection');
    // One command timeout plus one reconnect timeout, no more.
    expect(waited).toBeGreaterThanOrEqual(2 * TIMEOUT - 100);
    expect(waited).toBeLessThan(4 * TIMEOUT + 1000);
    expect(fs.gone.aborted).toBe(true);

    const t1 = Date.now();
    await expect(fs.size(`${dir}/x`)).rejects.toThrow(/the NAS does not answer/);
    expect(Date.now() - t1).toBeLessThan(100);

    // The last attempt: a short login, refused by the silence within its timeout.
    const t2 = Date.now();
    expect(await fs.revive(300)).toBe(false);
    expect(Date.now() - t2).toBeLessThan(300 + 500);
  });
});
