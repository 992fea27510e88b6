/**
 * Retention tiers over a real FTP session against the servers of
 * ftpServerKinds(): a simulated year of nightly runs with keep 10, weekly 4,
 * monthly 12 on a clock the test controls, and what one rotation with all three
 * tiers full costs in FTP commands (it must stay linear in keep + weekly + monthly).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listGenerations } from '../../../src/ftp/generations.js';
import { type Manifest, serializeManifest } from '../../../src/ftp/manifest.js';
import { finishNodeRun, prepareNodeTree } from '../../../src/ftp/rotation/nodeTree.js';
import { type NasSession, openNasSession } from '../../../src/ftp/session.js';
import { silentLogger } from '../../../src/log.js';
import { Killed, killAfter, localTree } from '../../support/ftpKill.js';
import { startFtpRelay, verbOf } from '../../support/ftpRelay.js';
import {
  ftpServerKinds,
  plainSettings,
  startFtpServer,
  type TestFtpServer,
} from '../../support/ftpServers.js';

const logger = silentLogger();
const DAY = 86_400_000;
const YEAR_START = Date.UTC(2026, 0, 1, 2, 0, 0);
const counts = { keep: 10, weekly: 4, monthly: 12 };

/** The night of day `d` (0 = 1 Jan 2026), its node starting `jitterMin` minutes after 02:00. */
function night(d: number, vmids: number[], jitterMin = 0): Manifest {
  const start = YEAR_START + d * DAY + jitterMin * 60_000;
  const runId = `day${String(d).padStart(3, '0')}`;
  return {
    version: 1,
    runId,
    node: 'pve1',
    cluster: 'home',
    pveVersion: '9.1.1',
    startedAt: new Date(start).toISOString(),
    finishedAt: new Date(start + 600_000).toISOString(),
    guests: vmids.map((vmid) => ({
      vmid,
      type: 'lxc' as const,
      name: `ct${vmid}`,
      status: 'saved' as const,
      files: [{ name: `vzdump-lxc-${vmid}-${runId}.tar.zst`, size: runId.length }],
    })),
  };
}

/**
 * Full tiers under `root/nodeDir`, spaced so that tonight (day 1000) promotes one daily
 * and one weekly and removes the oldest monthly; tonight's uploads in transfer/.
 */
async function seedFullTiers(
  root: string,
  nodeDir: string,
  c: { keep: number; weekly: number; monthly: number },
  vmids: number[],
): Promise<Manifest> {
  const seed = async (name: string, d: number) => {
    const m = night(d, vmids);
    const dir = join(root, nodeDir, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'manifest.json'), serializeManifest(m));
    for (const g of m.guests) await writeFile(join(dir, g.files[0]!.name), m.runId);
  };
  for (let i = 0; i < c.keep; i++) await seed(`daily.${i}`, 1000 - 1 - i);
  const lastDaily = 1000 - c.keep;
  for (let i = 0; i < c.weekly; i++) await seed(`weekly.${i}`, lastDaily - 7 * (i + 1));
  const lastWeekly = lastDaily - 7 * c.weekly;
  for (let i = 0; i < c.monthly; i++) await seed(`monthly.${i}`, lastWeekly - 28 * (i + 1));
  const tonight = night(1000, vmids);
  await mkdir(join(root, nodeDir, 'transfer'), { recursive: true });
  for (const g of tonight.guests)
    await writeFile(join(root, nodeDir, 'transfer', g.files[0]!.name), tonight.runId);
  return tonight;
}

describe.each(ftpServerKinds())('retention tiers over FTP (%s)', (kind) => {
  let server: TestFtpServer;
  let session: NasSession;

  beforeAll(async () => {
    server = await startFtpServer(kind);
    session = await openNasSession(plainSettings(server), logger);
  });
  afterAll(async () => {
    session?.close();
    await server?.close();
  });

  it('a year of nightly runs with keep 10, weekly 4, monthly 12 leaves exactly the expected generations', async () => {
    const nodeDir = '/year/pve1';
    const started = Date.now();
    for (let d = 0; d < 365; d++) {
      // The node starts a little earlier or later each night (queued behind other nodes):
      // the tiers still take one weekly every 7 days.
      const m = night(d, [101], ((d * 37) % 61) - 30);
      await session.mkdirp(`${nodeDir}/transfer`);
      await session.writeText(`${nodeDir}/transfer/${m.guests[0]!.files[0]!.name}`, m.runId);
      const r = await finishNodeRun(session, nodeDir, m, { ...counts, rotate: true, logger });
      expect(r.outcome).toBe('rotated');
    }
    const seconds = (Date.now() - started) / 1000;

    // The spec, by hand: dailies are the last ten nights (days 355–364). The daily falling
    // past keep on night n is day n-10; the first (day 0) fills the empty weekly tier and
    // then every 7th day is promoted: 0, 7, 14, …; the newest four of those ≤ 354 stay.
    // A weekly falling past 4 is promoted when the newest monthly is ≥ 28 days older: days
    // 0, 28, 56, …; those that fell out of weekly by day 364 are ≤ 322, and twelve remain.
    const expected: Record<string, string> = {};
    for (let i = 0; i < 10; i++) expected[`daily.${i}`] = `day${364 - i}`;
    for (const [i, d] of [350, 343, 336, 329].entries()) expected[`weekly.${i}`] = `day${d}`;
    for (const [i, d] of [308, 280, 252, 224, 196, 168, 140, 112, 84, 56, 28, 0].entries())
      expected[`monthly.${i}`] = `day${String(d).padStart(3, '0')}`;

    const gens = await listGenerations(session, nodeDir);
    expect(Object.fromEntries(gens.map((g) => [g.name, g.manifest?.runId]))).toEqual(expected);
    expect(gens.map((g) => g.name)).toEqual(Object.keys(expected));
    // Each generation still holds its own archive: promotion is a rename, never a copy.
    for (const g of gens)
      expect(g.files.map((f) => f.name)).toEqual([`vzdump-lxc-101-${g.manifest!.runId}.tar.zst`]);
    expect((await readdir(join(server.root, 'year/pve1'))).sort()).toEqual(
      Object.keys(expected).sort(),
    );
    process.stdout.write(`[tiers year ${kind}] 365 nights in ${seconds.toFixed(1)} s\n`);
    // Each night reads every generation's manifest (up to 26 here): the price of the rules
    // that need them (an incomplete generation never counts; promotion by startedAt).
  }, 180_000);

  it('one rotation with all three tiers full costs FTP commands linear in keep + weekly + monthly', async () => {
    const measure = async (c: { keep: number; weekly: number; monthly: number }) => {
      const nodeDir = `cost-${c.keep}-${c.weekly}-${c.monthly}/pve1`;
      const vmids = Array.from({ length: 20 }, (_, i) => 100 + i);
      const tonight = await seedFullTiers(server.root, nodeDir, c, vmids);

      const counter = await startFtpRelay(server);
      const counted = await openNasSession(plainSettings(server, counter.port), logger);
      try {
        const login = counter.commands.length;
        const r = await finishNodeRun(counted, `/${nodeDir}`, tonight, {
          ...c,
          rotate: true,
          logger,
        });
        expect(r.promoted).toEqual([
          { from: `daily.${c.keep - 1}`, to: 'weekly.0' },
          { from: `weekly.${c.weekly - 1}`, to: 'monthly.0' },
        ]);
        expect(r.removed).toEqual([`monthly.${c.monthly - 1}`]);
        return counter.commands.slice(login).map(verbOf);
      } finally {
        counted.close();
        await counter.close();
      }
    };
    const small = await measure({ keep: 3, weekly: 2, monthly: 2 });
    const full = await measure(counts);
    const byVerb = (cmds: string[]) => {
      const out: Record<string, number> = {};
      for (const c of cmds) out[c] = (out[c] ?? 0) + 1;
      return out;
    };
    const gensSmall = 3 + 2 + 2;
    const gensFull = 10 + 4 + 12;
    // Per generation: its manifest read (RETR and its data-connection set-up) and a rename
    // (RNFR + RNTO); the removed generation's 21 files are deleted; a fixed rest (journal,
    // listing, manifest write). No per-file cost for generations that only move.
    const perGeneration = (full.length - small.length) / (gensFull - gensSmall);
    expect(perGeneration).toBeLessThanOrEqual(6);
    expect(full.length).toBeLessThanOrEqual(6 * gensFull + 21 + 30);
    // Every generation moves, the removed one goes to trash, the manifest and the journal are
    // written aside and renamed into place.
    expect(byVerb(full).RNFR).toBe(gensFull + 1 + 2);
    process.stdout.write(
      `[tiers rotation cost ${kind}] keep 10/weekly 4/monthly 12, 20 files/generation: ${full.length} FTP commands ${JSON.stringify(byVerb(full))}; keep 3/2/2: ${small.length}; ${perGeneration.toFixed(2)} per generation\n`,
    );
  });

  it('a rotation with all three tiers full killed after any step heals to the uninterrupted tree', async () => {
    const c = { keep: 3, weekly: 2, monthly: 2 };
    const vmids = [101, 102];
    const tonight = await seedFullTiers(server.root, 'kill/ref', c, vmids);
    const counting = killAfter(session, 1000);
    await finishNodeRun(counting, '/kill/ref', tonight, { ...c, rotate: true, logger });
    const reference = await localTree(join(server.root, 'kill/ref'));
    expect(
      Object.keys(reference)
        .filter((p) => !p.includes('/'))
        .sort(),
    ).toEqual(['daily.0', 'daily.1', 'daily.2', 'monthly.0', 'monthly.1', 'weekly.0', 'weekly.1']);
    // Kill after 1, 2, … NAS writes until the rotation gets through (manifest, journal, trash
    // rename, seven moves, journal drop, the trash's files and directory).
    let k = 1;
    for (; k < 80; k++) {
      const nodeDir = `kill/k${k}`;
      await seedFullTiers(server.root, nodeDir, c, vmids);
      const killed = await finishNodeRun(killAfter(session, k), `/${nodeDir}`, tonight, {
        ...c,
        rotate: true,
        logger,
      }).then(
        () => false,
        (e) => {
          if (e instanceof Killed) return true;
          throw e;
        },
      );
      if (killed) await prepareNodeTree(session, `/${nodeDir}`, { ...c, logger, runId: 'heal' });
      expect(await localTree(join(server.root, nodeDir)), `killed after ${k}`).toEqual(reference);
      if (!killed) break;
    }
    expect(k).toBeGreaterThan(11);
  });
});
