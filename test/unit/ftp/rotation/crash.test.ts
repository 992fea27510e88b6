/**
 * Kill the rotation after every single mutating step, then let the next run
 * heal: the tree must end exactly as if nothing had happened.
 */
import { describe, expect, it } from 'vitest';
import { parseManifest, serializeManifest } from '../../../../src/ftp/manifest.js';
import { finishNodeRun, prepareNodeTree } from '../../../../src/ftp/rotation/nodeTree.js';
import { silentLogger } from '../../../../src/log.js';
import { MemoryFs, SimulatedCrash } from '../../../support/memoryFs.js';
import { type GuestSpec, manifestFor, NODE_DIR, seedGeneration, seedUploads } from './trees.js';

const logger = silentLogger();
const T = `${NODE_DIR}/transfer`;
const saved = (...v: number[]) => v.map((vmid) => ({ vmid, status: 'saved' as const }));
const failed = (...v: number[]) => v.map((vmid) => ({ vmid, status: 'failed' as const }));

/**
 * A full tree for `keep`, plus one generation past keep that holds the only
 * good copy of guest 105, a gap and a foreign file, plus tonight's uploads.
 */
function startTree(keep: number): MemoryFs {
  const fs = new MemoryFs();
  for (let i = 0; i < keep; i++) {
    seedGeneration(fs, `${NODE_DIR}/daily.${i}`, `old${i}`, [...saved(101, 102), ...failed(105)]);
  }
  seedGeneration(fs, `${NODE_DIR}/daily.${keep + 1}`, 'ancient', saved(101, 105));
  fs.seedFile(`${NODE_DIR}/.lock`, 'held by this run');
  seedUploads(fs, T, 'tonight', [...saved(101), ...failed(102, 105)]);
  return fs;
}

const tonight: GuestSpec[] = [...saved(101), ...failed(102, 105)];
const tomorrow: GuestSpec[] = saved(101, 102);

async function finishTonight(fs: MemoryFs, keep: number) {
  return finishNodeRun(fs, NODE_DIR, manifestFor('tonight', tonight), {
    keep,
    rotate: true,
    logger,
  });
}

async function nextNight(fs: MemoryFs, keep: number) {
  await prepareNodeTree(fs, NODE_DIR, { keep, logger, runId: 'heal', now: () => new Date(0) });
  seedUploads(fs, T, 'tomorrow', tomorrow);
  await finishNodeRun(fs, NODE_DIR, manifestFor('tomorrow', tomorrow), {
    keep,
    rotate: true,
    logger,
  });
}

describe.each([3, 10])('crash after every step, keep=%i', (keep) => {
  it('heals to the uninterrupted result', async () => {
    const reference = startTree(keep);
    await finishTonight(reference, keep);
    const steps = reference.mutations;
    const afterTonight = reference.snapshot(NODE_DIR);
    await nextNight(reference, keep);
    const afterTomorrow = reference.snapshot(NODE_DIR);
    expect(steps).toBeGreaterThan(keep + 4);
    expect(Object.keys(afterTonight)).toContain(`daily.${keep}/manifest.json`); // 105's copy kept

    for (let k = 0; k < steps; k++) {
      const fs = startTree(keep);
      fs.crashAfter(k);
      await expect(finishTonight(fs, keep)).rejects.toBeInstanceOf(SimulatedCrash);
      fs.heal();
      // Killed again, this time while healing, at the first step: healing must survive that too.
      fs.crashAfter(1);
      await prepareNodeTree(fs, NODE_DIR, { keep, logger, runId: 'heal' }).catch((e) => {
        if (!(e instanceof SimulatedCrash)) throw e;
      });
      fs.heal();
      await prepareNodeTree(fs, NODE_DIR, { keep, logger, runId: 'heal', now: () => new Date(0) });
      const healed = fs.snapshot(NODE_DIR);
      if (k === 0) {
        // Killed before the manifest was written: tonight's uploads become an incomplete
        // generation, which saved nothing and so does not count toward keep: nothing that
        // was on the NAS is removed for it.
        const m = parseManifest(healed['daily.0/manifest.json']!);
        expect(m.incomplete).toBe(true);
        const contents = (tree: Record<string, string>) =>
          Object.entries(tree)
            .filter(([path]) => !path.endsWith('manifest.json'))
            .map(([, content]) => content)
            .sort();
        expect(contents(healed)).toEqual(contents(startTree(keep).snapshot(NODE_DIR)));
        continue;
      }
      expect(healed, `crash after step ${k}`).toEqual(afterTonight);
      await nextNight(fs, keep);
      expect(fs.snapshot(NODE_DIR), `crash after step ${k}, next night`).toEqual(afterTomorrow);
    }
  });
});

describe('crash after every step, all three tiers full (keep 3, weekly 2, monthly 2)', () => {
  const counts = { keep: 3, weekly: 2, monthly: 2 };
  const onDay = (runId: string, d: number, guests: GuestSpec[]) => ({
    ...manifestFor(runId, guests),
    startedAt: new Date(Date.UTC(2026, 0, 1 + d, 2)).toISOString(),
    finishedAt: new Date(Date.UTC(2026, 0, 1 + d, 3)).toISOString(),
  });
  /** Dailies of days 97–99, weeklies 90 and 83, monthlies 55, 27 and 0; 105's only copy in monthly.1. */
  function tieredTree(): MemoryFs {
    const fs = new MemoryFs();
    const seed = (name: string, day: number, guests: GuestSpec[]) => {
      const runId = `d${day}`;
      seedUploads(fs, `${NODE_DIR}/${name}`, runId, guests);
      fs.seedFile(
        `${NODE_DIR}/${name}/manifest.json`,
        serializeManifest(onDay(runId, day, guests)),
      );
    };
    seed('daily.0', 99, [...saved(101, 102), ...failed(105)]);
    seed('daily.1', 98, [...saved(101, 102), ...failed(105)]);
    seed('daily.2', 97, [...saved(101, 102), ...failed(105)]);
    seed('weekly.0', 90, [...saved(101, 102), ...failed(105)]);
    seed('weekly.1', 83, [...saved(101, 102), ...failed(105)]);
    seed('monthly.0', 55, [...saved(101, 102), ...failed(105)]);
    seed('monthly.1', 27, saved(101, 105));
    seed('monthly.2', 0, saved(101, 102));
    fs.seedFile(`${NODE_DIR}/.lock`, 'held by this run');
    fs.seedFile(`${NODE_DIR}/weekly.01/foreign`, 'not ours');
    seedUploads(fs, T, 'tonight', tonight);
    return fs;
  }
  const finish = (fs: MemoryFs) =>
    finishNodeRun(fs, NODE_DIR, onDay('tonight', 100, tonight), {
      ...counts,
      rotate: true,
      logger,
    });
  const heal = (fs: MemoryFs) =>
    prepareNodeTree(fs, NODE_DIR, { ...counts, logger, runId: 'heal', now: () => new Date(0) });

  it('heals to the uninterrupted result after a kill at any step', async () => {
    const reference = tieredTree();
    const report = await finish(reference);
    const steps = reference.mutations;
    const expected = reference.snapshot(NODE_DIR);
    // The uninterrupted night: one promotion per tier boundary, monthly.1 kept for 105.
    expect(report.promoted).toEqual([
      { from: 'daily.2', to: 'weekly.0' },
      { from: 'weekly.1', to: 'monthly.0' },
    ]);
    expect(report.protected.map((p) => [p.name, p.newName, p.vmids])).toEqual([
      ['monthly.1', 'monthly.2', [105]],
    ]);
    expect(report.removed).toEqual(['monthly.2']);
    expect(steps).toBeGreaterThan(9);

    for (let k = 1; k < steps; k++) {
      const fs = tieredTree();
      fs.crashAfter(k);
      await expect(finish(fs)).rejects.toBeInstanceOf(SimulatedCrash);
      fs.heal();
      fs.crashAfter(1); // killed again while healing
      await heal(fs).catch((e) => {
        if (!(e instanceof SimulatedCrash)) throw e;
      });
      fs.heal();
      await heal(fs);
      expect(fs.snapshot(NODE_DIR), `crash after step ${k}`).toEqual(expected);
    }
  });
});
