/**
 * Issue #11 §2: the tool's OWN FTP commands (the hooks talk to the NAS
 * directly; only the tool goes through the counting relay), per guest and per
 * night, by kind, through the BUILT CLI. The budgets below are today's counts:
 * the test fails when a change makes the tool chattier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpRelay, startFtpRelay, verbOf } from '../support/ftpRelay.js';
import { ensureBuilt, runCli } from './support/cli.js';
import { startWorld, type World } from './support/world.js';

let world: World;
let relay: FtpRelay;

beforeAll(async () => {
  await ensureBuilt();
  const guests = (first: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      vmid: first + i,
      type: 'lxc' as const,
      name: `ct${first + i}`,
      status: 'running' as const,
      archiveSize: 8 * 1024,
    }));
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: 50,
    nodes: [
      { name: 'small', guests: guests(101, 2) },
      { name: 'big', guests: guests(201, 6) },
    ],
  });
  relay = await startFtpRelay({ host: world.ftp.host, port: world.ftp.port });
  await world.writeConfig({ ftp: { port: relay.port } });
}, 120_000);
afterAll(async () => {
  await relay?.close();
  await world?.close();
});

/** Run one node's night and return the tool's FTP commands by verb. */
async function night(node: string): Promise<Record<string, number>> {
  const from = relay.commands.length;
  const r = await runCli(['run', '-c', world.configPath, '--node', node], {
    env: world.env,
    cwd: world.tmp,
  });
  expect(r.code, r.stderr).toBe(0);
  const byVerb: Record<string, number> = {};
  for (const line of relay.commands.slice(from)) {
    const verb = verbOf(line);
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
  }
  return byVerb;
}
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const minus = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
};

describe("the tool's FTP command budget", () => {
  it('per guest and per night, with keep full', async () => {
    // Fill keep=3 on both nodes, then measure a steady-state night (one generation drops).
    for (let i = 0; i < 3; i++) {
      await night('small');
      await night('big');
    }
    const small = await night('small');
    const big = await night('big');
    const perGuest = minus(big, small);
    const perGuestTotal = total(perGuest) / 4;
    const fixed = total(small) - 2 * perGuestTotal;
    process.stdout.write(
      `[tool FTP budget] night with 2 guests: ${total(small)} ${JSON.stringify(small)}; with 6: ${total(big)}; per guest ${perGuestTotal} ${JSON.stringify(perGuest)} (for 4 guests); fixed per night ${fixed}\n`,
    );
    expect(small.USER).toBe(1); // one login per node run
    expect(big.USER).toBe(1);
    // Per guest: SIZE of archive and log, the .sha256 read (SIZE, EPSV, RETR), the manifest
    // record (EPSV, STOR, RNFR, RNTO), and rotation's DELE of the three files of the copy that
    // drops out. Per night (keep=3): login, lock lease, healing (the node dir and transfer/
    // only), transfer/ made for the hooks, every generation's manifest, manifest, journal,
    // trash and lock release (each removed by absolute paths).
    expect(perGuestTotal).toBeLessThanOrEqual(12);
    expect(fixed).toBeLessThanOrEqual(66);
    // No CWD per path component or per removed directory: lists go by name, mkdirp tries one
    // MKD; what is left are existence checks of a missing directory.
    expect(small.CWD ?? 0).toBeLessThanOrEqual(2);
    expect(perGuest.CWD ?? 0).toBe(0);
  }, 180_000);
});
