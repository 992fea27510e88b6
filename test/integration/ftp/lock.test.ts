import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockInfo } from '../../../src/ftp/lock.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

function me(runId: string, over: Partial<LockInfo> = {}): LockInfo {
  return {
    runId,
    host: 'cron-host',
    pid: process.pid,
    startedAt: '2026-11-30T02:00:00.000Z',
    ...over,
  };
}

/** The pid of a process that has exited (so provably not running). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

describe.each(modes())('node lock on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  const lockOf = () => `${freshDir('lock')}/pve1/.lock`;

  it('is acquired, records its holder, and is released', async () => {
    const fs = await sessions.open(server, tls);
    const lock = lockOf();
    const result = await acquireLock(fs, lock, me('run-a'), { breakLock: false });
    expect(result.acquired).toBe(true);
    const holder = JSON.parse(await readFile(join(server.root, lock, 'holder.json'), 'utf8'));
    expect(holder).toMatchObject({ runId: 'run-a', host: 'cron-host', pid: process.pid });
    expect(holder.token).toMatch(/^[0-9a-f-]{36}$/);
    if (!result.acquired) return;
    await result.release();
    await result.release(); // idempotent
    expect(await readdir(join(server.root, lock, '..'))).toEqual([]);
  });

  it('is refused while another run holds it, naming the holder and --break-lock', async () => {
    const a = await sessions.open(server, tls);
    const b = await sessions.open(server, tls);
    const lock = lockOf();
    const first = await acquireLock(a, lock, me('run-a', { host: 'other-host', pid: 4242 }), {
      breakLock: false,
    });
    expect(first.acquired).toBe(true);
    const second = await acquireLock(b, lock, me('run-b'), { breakLock: false });
    expect(second.acquired).toBe(false);
    if (second.acquired) return;
    expect(second.holder).toEqual({
      runId: 'run-a',
      host: 'other-host',
      pid: 4242,
      startedAt: '2026-11-30T02:00:00.000Z',
    });
    expect(second.stale).toBeUndefined();
    expect(second.message).toMatch(/held by run run-a .*other-host.*4242/);
    expect(second.message).toContain('--break-lock');
  });

  it('lets exactly one of two concurrent acquirers win', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await sessions.open(server, tls);
      const b = await sessions.open(server, tls);
      const lock = lockOf();
      const results = await Promise.all([
        acquireLock(a, lock, me('run-a'), { breakLock: false }),
        acquireLock(b, lock, me('run-b'), { breakLock: false }),
      ]);
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const winner = results.findIndex((r) => r.acquired);
      const holder = JSON.parse(await readFile(join(server.root, lock, 'holder.json'), 'utf8'));
      expect(holder.runId).toBe(winner === 0 ? 'run-a' : 'run-b');
    }
  });

  it('takes over at once a lock whose holder ran on this host and no longer runs', async () => {
    const fs = await sessions.open(server, tls);
    const lock = lockOf();
    const pid = await deadPid();
    const old = await acquireLock(fs, lock, me('run-killed', { pid }), { breakLock: false });
    expect(old.acquired).toBe(true);
    // Well within the lease: only the dead process proves it stale.
    const again = await acquireLock(fs, lock, me('run-new'), { breakLock: false });
    expect(again).toMatchObject({
      acquired: true,
      tookOver: { holder: { runId: 'run-killed', pid } },
    });
    if (!again.acquired) return;
    expect(again.tookOver?.message).toMatch(/process is gone/);
    const holder = JSON.parse(await readFile(join(server.root, lock, 'holder.json'), 'utf8'));
    expect(holder.runId).toBe('run-new');
    await again.release();
  });

  it('reports a lock without a readable holder, naming --break-lock', async () => {
    const fs = await sessions.open(server, tls);
    const lock = lockOf();
    await mkdir(join(server.root, lock), { recursive: true });
    await writeFile(join(server.root, lock, 'holder.json'), 'not json');
    const result = await acquireLock(fs, lock, me('run-b'), { breakLock: false });
    expect(result).toMatchObject({ acquired: false });
    if (result.acquired) return;
    expect(result.holder).toBeUndefined();
    expect(result.message).toMatch(/names no holder.*--break-lock/);
  });

  it('is broken on --break-lock, and the old holder cannot release the new lock', async () => {
    const a = await sessions.open(server, tls);
    const b = await sessions.open(server, tls);
    const lock = lockOf();
    const first = await acquireLock(a, lock, me('run-a'), { breakLock: false });
    const second = await acquireLock(b, lock, me('run-b'), { breakLock: true });
    expect(first.acquired && second.acquired).toBe(true);
    if (!first.acquired || !second.acquired) return;
    await first.release();
    const holder = JSON.parse(await readFile(join(server.root, lock, 'holder.json'), 'utf8'));
    expect(holder.runId).toBe('run-b');
    await second.release();
    expect(await readdir(join(server.root, lock, '..'))).toEqual([]);
  });

  it('breaks a lock left as a plain file by something else', async () => {
    const fs = await sessions.open(server, tls);
    const lock = lockOf();
    await mkdir(join(server.root, lock, '..'), { recursive: true });
    await writeFile(join(server.root, lock), 'pid 1');
    const refused = await acquireLock(fs, lock, me('run-a'), { breakLock: false });
    expect(refused.acquired).toBe(false);
    const broken = await acquireLock(fs, lock, me('run-a'), { breakLock: true });
    expect(broken.acquired).toBe(true);
  });
});
