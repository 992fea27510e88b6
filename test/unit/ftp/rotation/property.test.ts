/**
 * Property: from any starting tree (gaps, missing/bad manifests, leftover
 * transfer/, trash, a journal of a rotation killed at any step, a corrupt
 * journal) and with crashes at any point of the night, the next run leaves a
 * canonical tree, loses no copy that retention keeps, and — whenever tonight's
 * manifest got written — ends exactly where an uncrashed night ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tryParseManifest } from '../../../../src/ftp/manifest.js';
import { finishNodeRun, prepareNodeTree } from '../../../../src/ftp/rotation/nodeTree.js';
import { silentLogger } from '../../../../src/log.js';
import { MemoryFs, SimulatedCrash } from '../../../support/memoryFs.js';
import {
  archiveName,
  type GuestSpec,
  manifestFor,
  NODE_DIR,
  seedGeneration,
  seedUploads,
  topNames,
} from './trees.js';

const logger = silentLogger();
const VMIDS = [101, 102, 103, 104];
const T = `${NODE_DIR}/transfer`;

const guestsArb = fc
  .subarray(VMIDS, { minLength: 0 })
  .chain((vmids) =>
    fc.tuple(
      ...vmids.map((vmid) =>
        fc.constantFrom<GuestSpec>({ vmid, status: 'saved' }, { vmid, status: 'failed' }),
      ),
    ),
  )
  .map((gs) => [...gs]);

const genArb = fc.record({
  guests: guestsArb,
  manifest: fc.constantFrom<'valid' | 'none' | 'bad'>('valid', 'valid', 'valid', 'none', 'bad'),
});

const scenarioArb = fc.record({
  keep: fc.integer({ min: 1, max: 5 }),
  gens: fc.dictionary(fc.integer({ min: 0, max: 8 }).map(String), genArb, { maxKeys: 7 }),
  leftover: fc.constantFrom(
    'none',
    'transfer-no-manifest',
    'transfer-with-manifest',
    'crashed-rotation',
    'corrupt-journal',
  ),
  leftoverGuests: guestsArb,
  leftoverCrashAt: fc.integer({ min: 0, max: 40 }),
  trash: fc.boolean(),
  tonight: guestsArb.filter((g) => g.some((x) => x.status === 'saved')),
  prepareCrashAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  finishCrashAt: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

async function swallowCrash(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (e) {
    if (e instanceof SimulatedCrash) return true;
    throw e;
  }
}

/** Build the start tree (including a leftover state made by really crashing a rotation). */
async function build(s: Scenario): Promise<MemoryFs> {
  const fs = new MemoryFs();
  for (const [i, g] of Object.entries(s.gens)) {
    seedGeneration(fs, `${NODE_DIR}/daily.${i}`, `g${i}`, g.guests, g.manifest);
  }
  fs.seedFile(`${NODE_DIR}/.lock`, 'lock');
  fs.seedFile(`${NODE_DIR}/daily.07/foreign`, 'foreign');
  if (s.trash) seedGeneration(fs, `${NODE_DIR}/.trash-daily.3-old`, 'trash', s.leftoverGuests);
  if (s.leftover === 'transfer-no-manifest') seedUploads(fs, T, 'left', s.leftoverGuests);
  if (s.leftover === 'transfer-with-manifest') seedGeneration(fs, T, 'left', s.leftoverGuests);
  if (s.leftover === 'corrupt-journal') fs.seedFile(`${NODE_DIR}/.rotation.json`, '{"vers');
  if (s.leftover === 'crashed-rotation') {
    seedGeneration(fs, T, 'left', s.leftoverGuests);
    fs.crashAfter(s.leftoverCrashAt);
    await swallowCrash(
      finishNodeRun(fs, NODE_DIR, manifestFor('left', s.leftoverGuests), {
        keep: s.keep,
        rotate: true,
        logger,
      }),
    );
    fs.heal();
  }
  return fs;
}

/** Tonight, with optional crashes, then the next run's healing. Returns whether tonight's manifest was lost. */
async function night(fs: MemoryFs, s: Scenario, crash: boolean): Promise<void> {
  const o = { keep: s.keep, logger, now: () => new Date(0) };
  if (crash && s.prepareCrashAt !== undefined) {
    fs.crashAfter(s.prepareCrashAt);
    await swallowCrash(prepareNodeTree(fs, NODE_DIR, { ...o, runId: 'prep' }));
    fs.heal();
  }
  await prepareNodeTree(fs, NODE_DIR, { ...o, runId: 'prep' });
  seedUploads(fs, T, 'tonight', s.tonight);
  if (crash && s.finishCrashAt !== undefined) fs.crashAfter(s.finishCrashAt);
  await swallowCrash(
    finishNodeRun(fs, NODE_DIR, manifestFor('tonight', s.tonight), { ...o, rotate: true }),
  );
  fs.heal();
  await prepareNodeTree(fs, NODE_DIR, { ...o, runId: 'next' });
}

/** Guests with a good copy somewhere before tonight (valid manifest + archive present). */
function goodCopies(fs: MemoryFs): Set<number> {
  const snap = fs.snapshot(NODE_DIR);
  const out = new Set<number>();
  for (const [path, text] of Object.entries(snap)) {
    if (!path.endsWith('/manifest.json') || path.startsWith('.trash-')) continue;
    const r = tryParseManifest(text);
    if (!r.ok) continue;
    const dir = path.slice(0, -'/manifest.json'.length);
    for (const g of r.manifest.guests) {
      if (
        g.status === 'saved' &&
        snap[`${dir}/${archiveName(r.manifest.runId, g.vmid)}`] !== undefined
      ) {
        out.add(g.vmid);
      }
    }
  }
  return out;
}

describe('rotation property', () => {
  it('heals to a canonical tree without losing a kept copy', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const fs = await build(s);
        const before = goodCopies(fs);
        // Generations that count toward keep: a readable manifest that saved a guest, or one
        // that cannot be read (unknown content); one that saved nothing never counts.
        const snap = fs.snapshot(NODE_DIR);
        const startGens = topNames(fs).filter((n) => {
          if (!/^daily\.(0|[1-9]\d*)$/.test(n) && n !== 'transfer') return false;
          const text = snap[`${n}/manifest.json`];
          if (text === undefined) return n !== 'transfer'; // a leftover without one is adopted incomplete
          const r = tryParseManifest(text);
          return !r.ok || r.manifest.guests.some((g) => g.status === 'saved');
        });
        await night(fs, s, true);

        // Canonical: daily.0..n-1, no transfer/trash/journal, foreign names untouched.
        const names = topNames(fs);
        const gens = names.filter((n) => /^daily\.(0|[1-9]\d*)$/.test(n));
        expect(gens.sort()).toEqual(gens.map((_, i) => `daily.${i}`).sort());
        expect(names.filter((n) => !gens.includes(n))).toEqual(['.lock', 'daily.07']);
        expect(fs.snapshot(NODE_DIR)['daily.07/foreign']).toBe('foreign');

        // Nothing retention keeps is lost: every guest that had a good copy still has one.
        const after = goodCopies(fs);
        for (const vmid of before) expect(after.has(vmid), `guest ${vmid}`).toBe(true);
        // At least `keep` counted generations survive when that many existed.
        expect(gens.length).toBeGreaterThanOrEqual(Math.min(s.keep, startGens.length));

        // Same result as an uncrashed night, unless tonight died before its manifest was written.
        const manifestLost = s.finishCrashAt === 0;
        if (!manifestLost) {
          const reference = await build(s);
          await night(reference, s, false);
          expect(fs.snapshot(NODE_DIR)).toEqual(reference.snapshot(NODE_DIR));
        }
      }),
      {
        numRuns: Number(process.env.ROTATION_PROPERTY_RUNS ?? 250),
        seed: Number(process.env.ROTATION_PROPERTY_SEED ?? 20261130),
      },
    );
  });
});
