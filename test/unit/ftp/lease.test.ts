/**
 * The node lock as a lease, on the in-memory NAS with its own clock: age is
 * the NAS's time of a fresh probe minus the NAS's time of what the holder last
 * wrote, so the tests move only the NAS clock (never the local one).
 */
import { describe, expect, it } from 'vitest';
import { acquireLock, LeaseLostError, type LockInfo } from '../../../src/ftp/lock.js';
import { MemoryFs } from '../../support/memoryFs.js';

const LOCK = '/dump/pve1/.lock';
const MIN = 60_000;
const LEASE = 10 * MIN;

function me(runId: string, host = 'ci-runner-1'): LockInfo {
  // Another host than this one: a pid check can tell nothing, only the lease can.
  return { runId, host, pid: 4242, startedAt: '2026-12-01T02:00:00.000Z' };
}
const opts = { breakLock: false, leaseMs: LEASE, localHost: 'this-host' };

function nas(): MemoryFs {
  const fs = new MemoryFs();
  fs.seedDir('/dump');
  return fs;
}

describe('node lock lease (in memory, NAS clock)', () => {
  it('a freshly renewed lock is held: the run is refused, naming the holder and its age by the NAS clock', async () => {
    const fs = nas();
    const first = await acquireLock(fs, LOCK, me('run-a'), opts);
    expect(first.acquired).toBe(true);
    fs.advance(9 * MIN);
    const second = await acquireLock(fs, LOCK, me('run-b', 'ci-runner-2'), opts);
    expect(second).toMatchObject({
      acquired: false,
      holder: { runId: 'run-a', host: 'ci-runner-1' },
    });
    if (second.acquired) return;
    expect(second.message).toMatch(/held by run run-a \(host ci-runner-1, pid 4242/);
    expect(second.message).toMatch(/last renewed 9m00s ago by the NAS clock/);
    // The probe that read the NAS clock is gone again.
    expect(Object.keys(fs.snapshot('/dump/pve1'))).toEqual(['.lock', '.lock/holder.json']);
  });

  it('a lock not renewed for lockLease is taken over with a warning naming the old holder', async () => {
    const fs = nas();
    const killed = await acquireLock(fs, LOCK, me('run-killed'), opts);
    expect(killed.acquired).toBe(true);
    fs.advance(LEASE);
    const next = await acquireLock(fs, LOCK, me('run-next', 'ci-runner-2'), opts);
    expect(next.acquired).toBe(true);
    if (!next.acquired) return;
    expect(next.tookOver?.holder).toEqual(me('run-killed'));
    expect(next.tookOver?.idleMs).toBe(LEASE);
    expect(next.tookOver?.message).toMatch(
      /took over stale node lock .* of run run-killed \(host ci-runner-1, pid 4242.*not renewed for 10m00s/,
    );
    expect(JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}')).toMatchObject({
      runId: 'run-next',
      host: 'ci-runner-2',
    });
    // The killed run, were it to come back, finds it lost and cannot remove the new lock.
    if (killed.acquired) {
      await expect(killed.renew()).rejects.toThrow(/took it over as stale/);
      await killed.release();
    }
    expect(JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}').runId).toBe('run-next');
    await next.release();
    expect(fs.snapshot('/dump/pve1')).toEqual({});
  });

  it('the host clocks never matter: only NAS file times are compared', async () => {
    const fs = nas();
    await acquireLock(fs, LOCK, { ...me('run-a'), startedAt: '1999-01-01T00:00:00.000Z' }, opts);
    // The holder's own clock said 1999, the NAS says the file is a minute old: held.
    fs.advance(MIN);
    const r = await acquireLock(fs, LOCK, me('run-b'), opts);
    expect(r.acquired).toBe(false);
  });

  it('two runs racing for a stale lock end with exactly one holder', async () => {
    for (const order of [0, 1]) {
      const fs = nas();
      await acquireLock(fs, LOCK, me('run-killed'), opts);
      fs.advance(LEASE + MIN);
      const racers = [me('run-a', 'a'), me('run-b', 'b')];
      if (order) racers.reverse();
      const results = await Promise.all(racers.map((r) => acquireLock(fs, LOCK, r, opts)));
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const loser = results.find((r) => !r.acquired);
      expect(loser?.acquired === false && loser.message).toMatch(/another run is taking it over/);
      const winner = results.findIndex((r) => r.acquired);
      const holder = JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}');
      expect(holder.runId).toBe(racers[winner]?.runId);
      // A third run arriving later sees a fresh lock.
      const late = await acquireLock(fs, LOCK, me('run-c', 'c'), opts);
      expect(late).toMatchObject({ acquired: false, holder: { runId: holder.runId } });
    }
  });

  it('a racer that judged the old holder stale before the winner wrote loses all the same', async () => {
    const fs = nas();
    await acquireLock(fs, LOCK, me('run-killed'), opts);
    fs.advance(LEASE);
    const a = await acquireLock(fs, LOCK, me('run-a', 'a'), opts);
    expect(a.acquired).toBe(true);
    // b read the old holder before a's write, then tries the same takeover marker.
    const marker = Object.keys(fs.snapshot(LOCK)).find((k) => k.startsWith('takeover-'));
    expect(marker).toMatch(/^takeover-[0-9a-f-]{36}-\d+$/);
    expect(await fs.mkdirExclusive(`${LOCK}/${marker}`)).toBe(false);
  });

  it('a holder file of an unknown format is judged by its file time', async () => {
    const fs = nas();
    fs.seedFile(`${LOCK}/holder.json`, '{"who":"an older version","pid":"x"}');
    fs.advance(5 * MIN);
    const early = await acquireLock(fs, LOCK, me('run-a'), opts);
    expect(early).toMatchObject({ acquired: false });
    if (!early.acquired) expect(early.message).toMatch(/names no holder.*last renewed 5m00s ago/);
    fs.advance(5 * MIN);
    const late = await acquireLock(fs, LOCK, me('run-a'), opts);
    expect(late.acquired).toBe(true);
    if (late.acquired) expect(late.tookOver?.message).toMatch(/of a holder of unknown format/);
  });

  it('renewal keeps the lease fresh past lockLease', async () => {
    const fs = nas();
    const holder = await acquireLock(fs, LOCK, me('run-a'), opts);
    if (!holder.acquired) throw new Error('not acquired');
    for (let i = 0; i < 5; i++) {
      fs.advance(MIN);
      await holder.renew();
    }
    fs.advance(9 * MIN);
    // 14 minutes after the lock was taken, 9 after the last renewal: still held.
    expect((await acquireLock(fs, LOCK, me('run-b'), opts)).acquired).toBe(false);
    const renewed = JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}');
    expect(renewed.renewedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    fs.advance(MIN);
    expect((await acquireLock(fs, LOCK, me('run-b'), opts)).acquired).toBe(true);
  });

  it('renewal finds a broken or replaced lock lost, and keeps saying so', async () => {
    const fs = nas();
    const a = await acquireLock(fs, LOCK, me('run-a'), opts);
    if (!a.acquired) throw new Error('not acquired');
    const b = await acquireLock(fs, LOCK, me('run-b'), { ...opts, breakLock: true });
    expect(b.acquired).toBe(true);
    await expect(a.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await expect(a.renew()).rejects.toThrow(/held by run run-b/);
    await fs.removeDir(LOCK);
    if (b.acquired) await expect(b.renew()).rejects.toThrow(/removed/);
  });

  it('an empty lock directory (taker killed before its holder file) is dated on sight and freed by the lease', async () => {
    const fs = nas();
    fs.seedDir(LOCK);
    fs.advance(LEASE * 3);
    const first = await acquireLock(fs, LOCK, me('run-a'), opts);
    expect(first).toMatchObject({ acquired: false });
    if (!first.acquired) expect(first.message).toMatch(/names no holder.*--break-lock/);
    fs.advance(LEASE - 1000);
    expect((await acquireLock(fs, LOCK, me('run-b'), opts)).acquired).toBe(false);
    fs.advance(1000);
    const late = await acquireLock(fs, LOCK, me('run-c'), opts);
    expect(late.acquired).toBe(true);
    if (late.acquired) expect(late.tookOver?.idleMs).toBe(LEASE);
  });

  it('a taker that is alive still wins over the sighting of its empty lock', async () => {
    const fs = nas();
    // run-a made the directory and has not written its holder file yet when run-b looks.
    fs.seedDir(LOCK);
    expect((await acquireLock(fs, LOCK, me('run-b'), opts)).acquired).toBe(false);
    fs.advance(LEASE / 2);
    await fs.writeText(`${LOCK}/holder.json`, JSON.stringify({ ...me('run-a'), token: 'tok-a' }));
    // The sighting is older than the lease now, the holder file is not: the newest file counts.
    fs.advance(LEASE / 2 + 1000);
    const c = await acquireLock(fs, LOCK, me('run-c'), opts);
    expect(c).toMatchObject({ acquired: false, holder: { runId: 'run-a' } });
  });

  it('a taker killed between its takeover marker and its holder file does not block for good', async () => {
    const fs = nas();
    await acquireLock(fs, LOCK, me('run-killed'), opts);
    fs.advance(LEASE);
    // The taker's marker is there, its holder file never came.
    const holder = JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}');
    const t = (await fs.modifiedAt(`${LOCK}/holder.json`))?.getTime();
    fs.seedDir(`${LOCK}/takeover-${holder.token}-${t}`);
    const refused = await acquireLock(fs, LOCK, me('run-b'), opts);
    expect(refused).toMatchObject({ acquired: false });
    if (!refused.acquired) expect(refused.message).toMatch(/being taken over|taking it over/);
    fs.advance(LEASE - 1000);
    expect((await acquireLock(fs, LOCK, me('run-c'), opts)).acquired).toBe(false);
    fs.advance(1000);
    const freed = await acquireLock(fs, LOCK, me('run-d'), opts);
    expect(freed.acquired).toBe(true);
  });

  it("a racer whose look at the lock straddles the winner's takeover still loses", async () => {
    // b reads the old holder's file time, then a takes the lock over entirely, then b reads on.
    class Straddled extends MemoryFs {
      between: (() => Promise<void>) | undefined;
      override async modifiedAt(path: string): Promise<Date | undefined> {
        const t = await super.modifiedAt(path);
        const run = this.between;
        this.between = undefined;
        if (run && path.endsWith('/holder.json')) await run();
        return t;
      }
    }
    const fs = new Straddled();
    fs.seedDir('/dump');
    await acquireLock(fs, LOCK, me('run-killed'), opts);
    fs.advance(LEASE);
    let a: Awaited<ReturnType<typeof acquireLock>> | undefined;
    fs.between = async () => {
      a = await acquireLock(fs, LOCK, me('run-a', 'a'), opts);
    };
    const b = await acquireLock(fs, LOCK, me('run-b', 'b'), opts);
    expect(a?.acquired).toBe(true);
    expect(b.acquired).toBe(false);
    expect(JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}').runId).toBe('run-a');
  });
});
