/**
 * Kill the rotation after every single mutating step, then let the next run
 * heal: the tree must end exactly as if nothing had happened.
 */
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../../src/ftp/manifest.js';
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
