/**
 * The node lock's lease against real servers: the NAS clock is read with MDTM
 * (the probe file just written, and the holder's file), a holder file made old
 * on the server's disk is taken over, a fresh one is not, and two racers for
 * a stale lock end with exactly one holder.
 */
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockInfo } from '../../../src/ftp/lock.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

const LEASE = 600_000;

function me(runId: string, host = 'ci-runner-1'): LockInfo {
  return { runId, host, pid: 4242, startedAt: '2026-11-30T02:00:00.000Z' };
}
const opts = { breakLock: false, leaseMs: LEASE, localHost: 'this-host' };

describe.each(modes())('node lock lease on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  const lockOf = () => `${freshDir('lease')}/pve1/.lock`;
  const local = (path: string) => join(server.root, path);
  /** Make a file look `ms` old to the NAS (its mtime on the server's disk). */
  const age = async (path: string, ms: number) => {
    const t = new Date(Date.now() - ms);
    await utimes(local(path), t, t);
  };

  it('reads file times with MDTM: a file just written is "now", a missing one has none', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir('mdtm');
    await fs.mkdirp(dir);
    await fs.writeText(`${dir}/f.txt`, 'x');
    const t = await fs.modifiedAt(`${dir}/f.txt`);
    // Same machine here, so the NAS clock is ours: within a few seconds (MDTM has seconds).
    expect(Math.abs((t?.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
    await age(`${dir}/f.txt`, 3_600_000);
    const old = await fs.modifiedAt(`${dir}/f.txt`);
    expect(Math.abs(Date.now() - 3_600_000 - (old?.getTime() ?? 0))).toBeLessThan(5000);
    expect(await fs.modifiedAt(`${dir}/missing.txt`)).toBeUndefined();
  });

  it('refuses a lock renewed moments ago, and takes over one not renewed for the lease', async () => {
    const a = await sessions.open(server, tls);
    const b = await sessions.open(server, tls);
    const lock = lockOf();
    const first = await acquireLock(a, lock, me('run-killed'), opts);
    expect(first.acquired).toBe(true);
    const refused = await acquireLock(b, lock, me('run-b', 'ci-runner-2'), opts);
    expect(refused).toMatchObject({ acquired: false, holder: { runId: 'run-killed' } });
    if (!refused.acquired)
      expect(refused.message).toMatch(/last renewed \d+s ago by the NAS clock/);

    await age(`${lock}/holder.json`, LEASE + 60_000);
    const taken = await acquireLock(b, lock, me('run-b', 'ci-runner-2'), opts);
    expect(taken.acquired).toBe(true);
    if (!taken.acquired) return;
    expect(taken.tookOver?.message).toMatch(/of run run-killed \(host ci-runner-1, pid 4242/);
    expect(taken.tookOver?.idleMs).toBeGreaterThanOrEqual(LEASE + 55_000);
    const holder = JSON.parse(await readFile(local(`${lock}/holder.json`), 'utf8'));
    expect(holder.runId).toBe('run-b');
    // No probe file left beside the lock.
    expect(await readdir(local(`${lock}/..`))).toEqual(['.lock']);
    // The old holder, were it alive, finds the lock lost and leaves it.
    if (first.acquired) {
      await expect(first.renew()).rejects.toThrow(/took it over as stale/);
      await first.release();
    }
    await taken.release();
    expect(await readdir(local(`${lock}/..`))).toEqual([]);
  });

  it('two runs racing for a stale lock end with exactly one holder', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await sessions.open(server, tls);
      const b = await sessions.open(server, tls);
      const lock = lockOf();
      await mkdir(local(lock), { recursive: true });
      await writeFile(
        local(`${lock}/holder.json`),
        JSON.stringify({ ...me('run-killed'), token: `old-${round}` }),
      );
      await age(`${lock}/holder.json`, LEASE * 2);
      const results = await Promise.all([
        acquireLock(a, lock, me('run-a', 'a'), opts),
        acquireLock(b, lock, me('run-b', 'b'), opts),
      ]);
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const winner = results.findIndex((r) => r.acquired);
      const holder = JSON.parse(await readFile(local(`${lock}/holder.json`), 'utf8'));
      expect(holder.runId).toBe(winner === 0 ? 'run-a' : 'run-b');
    }
  });

  it('judges a holder file of an unknown format by its file time', async () => {
    const fs = await sessions.open(server, tls);
    const lock = lockOf();
    await mkdir(local(lock), { recursive: true });
    await writeFile(local(`${lock}/holder.json`), 'pid=1234 (written by an old version)\n');
    const fresh = await acquireLock(fs, lock, me('run-a'), opts);
    expect(fresh.acquired).toBe(false);
    await age(`${lock}/holder.json`, LEASE + 1000);
    const stale = await acquireLock(fs, lock, me('run-a'), opts);
    expect(stale.acquired).toBe(true);
    if (stale.acquired) expect(stale.tookOver?.message).toMatch(/a holder of unknown format/);
  });

  it('renewal rewrites the holder file: an old-looking lock is fresh again', async () => {
    const a = await sessions.open(server, tls);
    const b = await sessions.open(server, tls);
    const lock = lockOf();
    const held = await acquireLock(a, lock, me('run-a'), opts);
    if (!held.acquired) throw new Error('not acquired');
    // Without the renewal this lock would now be stale (the test above takes such a one over).
    await age(`${lock}/holder.json`, LEASE + 60_000);
    await held.renew();
    const other = await acquireLock(b, lock, me('run-b'), opts);
    expect(other).toMatchObject({ acquired: false, holder: { runId: 'run-a' } });
  });
});
