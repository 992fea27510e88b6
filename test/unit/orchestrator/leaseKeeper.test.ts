import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { keepLease } from '../../../src/orchestrator/leaseKeeper.js';
import { nasTimings } from '../../../src/orchestrator/nasTimings.js';

const until = async (what: string, check: () => boolean) => {
  const end = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('keepLease', () => {
  it('renews at its interval until stopped', async () => {
    let renewals = 0;
    const keeper = keepLease({
      renew: async () => {
        renewals++;
      },
      everyMs: 2,
      leaseMs: 60_000,
      logger: silentLogger(),
    });
    await until('three renewals', () => renewals >= 3);
    keeper.stop();
    const after = renewals;
    await new Promise((r) => setTimeout(r, 20));
    expect(renewals).toBe(after);
    expect(keeper.lost.aborted).toBe(false);
  });

  it('loses the lease on the first failed renewal, with the reason, and renews no more', async () => {
    let renewals = 0;
    const keeper = keepLease({
      renew: async () => {
        renewals++;
        throw new Error('node lock is no longer ours: held by run r2');
      },
      everyMs: 2,
      leaseMs: 60_000,
      logger: silentLogger(),
    });
    await until('lost', () => keeper.lost.aborted);
    expect(String(keeper.lost.reason)).toMatch(/could not renew it: .*held by run r2/);
    await new Promise((r) => setTimeout(r, 20));
    expect(renewals).toBe(1);
  });

  it('loses the lease when no renewal succeeded for half the lease (a renewal hangs)', async () => {
    let clock = 0;
    const keeper = keepLease({
      renew: () => new Promise(() => {}),
      everyMs: 1,
      leaseMs: 1000,
      logger: silentLogger(),
      now: () => clock,
    });
    clock = 400;
    keeper.check();
    expect(keeper.lost.aborted).toBe(false);
    clock = 501;
    keeper.check();
    expect(keeper.lost.aborted).toBe(true);
    expect(String(keeper.lost.reason)).toMatch(/no renewal succeeded/);
    keeper.stop();
  });
});

describe('nasTimings', () => {
  it('the default lease renews every 30 s and ends a silent NAS within 2 minutes', () => {
    const t = nasTimings(600_000);
    expect(t).toEqual({
      leaseMs: 600_000,
      renewEveryMs: 30_000,
      commandTimeoutMs: 30_000,
      releaseTimeoutMs: 5_000,
    });
    // heartbeat + command + reconnect + the task watcher's 8 s stop grace (+2 s) + release
    expect(t.renewEveryMs + 2 * t.commandTimeoutMs + 10_000 + t.releaseTimeoutMs).toBeLessThan(
      120_000,
    );
  });

  it('a short lease shrinks every step; the holder notices a dead NAS within half the lease', () => {
    for (const lease of [10_000, 20_000, 90_000, 600_000, 7 * 86_400_000]) {
      const t = nasTimings(lease);
      expect(t.renewEveryMs).toBeGreaterThanOrEqual(1000);
      expect(t.renewEveryMs + 2 * t.commandTimeoutMs).toBeLessThan(lease / 2);
    }
    expect(nasTimings(20_000).commandTimeoutMs).toBe(2000);
  });
});
