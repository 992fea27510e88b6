import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnsafeNameError } from '../../../src/ftp/errors.js';
import { verifyFiles } from '../../../src/ftp/verify.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

describe.each(modes())('verifyFiles on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  /** A transfer dir seeded with the given files (name → bytes). */
  async function transfer(files: Record<string, number>): Promise<string> {
    const dir = `${freshDir('verify')}/pve1/transfer`;
    await mkdir(join(server.root, dir), { recursive: true });
    for (const [name, size] of Object.entries(files)) {
      await writeFile(join(server.root, dir, name), Buffer.alloc(size, 7));
    }
    return dir;
  }

  const archive = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';
  const log = 'vzdump-lxc-101-2026_11_30-02_00_05.log';

  it('accepts files present with the expected sizes', async () => {
    const dir = await transfer({ [archive]: 70_000, [log]: 812 });
    const fs = await sessions.open(server, tls);
    const results = await verifyFiles(fs, dir, [
      { name: archive, size: 70_000 },
      { name: log, size: 812 },
    ]);
    expect(results).toEqual([
      { name: archive, ok: true, expectedSize: 70_000, actualSize: 70_000 },
      { name: log, ok: true, expectedSize: 812, actualSize: 812 },
    ]);
  });

  it('reports a missing file and a short one, without throwing', async () => {
    const dir = await transfer({ [archive]: 69_999 });
    const fs = await sessions.open(server, tls);
    const [a, l] = await verifyFiles(fs, dir, [
      { name: archive, size: 70_000 },
      { name: log, size: 812 },
    ]);
    expect(a).toMatchObject({ name: archive, ok: false, expectedSize: 70_000, actualSize: 69_999 });
    expect(a?.problem).toMatch(/69999 bytes, expected 70000/);
    expect(l).toMatchObject({ name: log, ok: false, expectedSize: 812 });
    expect(l?.actualSize).toBeUndefined();
    expect(l?.problem).toMatch(/missing/);
  });

  it('reports a file larger than expected (a stale .part renamed into place)', async () => {
    const dir = await transfer({ [archive]: 70_001 });
    const fs = await sessions.open(server, tls);
    const [a] = await verifyFiles(fs, dir, [{ name: archive, size: 70_000 }]);
    expect(a).toMatchObject({ ok: false, actualSize: 70_001, expectedSize: 70_000 });
    expect(a?.problem).toMatch(/larger/);
  });

  it('checks only existence when no size is expected, including names with spaces', async () => {
    const dir = await transfer({ 'my log ü.log': 3 });
    const fs = await sessions.open(server, tls);
    const results = await verifyFiles(fs, dir, [{ name: 'my log ü.log' }, { name: 'other.log' }]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(results[0]?.actualSize).toBe(3);
  });

  it('refuses a file name that would leave the directory', async () => {
    const dir = await transfer({});
    const fs = await sessions.open(server, tls);
    await expect(
      verifyFiles(fs, dir, [{ name: '../../etc/passwd', size: 1 }]),
    ).rejects.toBeInstanceOf(UnsafeNameError);
  });
});
