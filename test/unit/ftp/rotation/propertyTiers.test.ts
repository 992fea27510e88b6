/**
 * Property with retention tiers: random histories of nights — guests saved or
 * failed, nights killed before their manifest or in the middle of the rotation,
 * gaps of several days, the clock stepped backwards, the counts changed between
 * nights — and after every night (once healed):
 * - each tier is daily/weekly/monthly.0..n-1 and holds at most its count of
 *   generations that saved something, besides those that hold a copy of some
 *   guest with no newer one (the rule of plan.ts: newer = lower index in the
 *   same tier, or a newer tier and a later start; when the clock disagrees
 *   with the order, a copy is kept);
 * - consecutive weekly generations started ≥ 7 days apart, monthly ≥ 28
 *   (in whole days: tiers.ts);
 * - every guest keeps its newest durably saved copy (by night, not by clock);
 * - foreign names are untouched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Manifest, tryParseManifest } from '../../../../src/ftp/manifest.js';
import { parseGeneration, TIERS } from '../../../../src/ftp/rotation/names.js';
import { finishNodeRun, prepareNodeTree } from '../../../../src/ftp/rotation/nodeTree.js';
import { silentLogger } from '../../../../src/log.js';
import { MemoryFs, SimulatedCrash } from '../../../support/memoryFs.js';
import {
  archiveName,
  type GuestSpec,
  manifestFor,
  NODE_DIR,
  seedUploads,
  topNames,
} from './trees.js';

const logger = silentLogger();
const VMIDS = [101, 102, 103];
const T = `${NODE_DIR}/transfer`;
const DAY = 86_400_000;
const FOREIGN = { 'daily.07/foreign': 'f1', 'weekly.01/foreign': 'f2', 'yearly.0/foreign': 'f3' };

const countsArb = fc
  .record({
    keep: fc.integer({ min: 1, max: 4 }),
    weekly: fc.integer({ min: 0, max: 3 }),
    monthly: fc.integer({ min: 0, max: 3 }),
  })
  // The config refuses monthly without weekly (it could never fill).
  .map((c) => (c.weekly === 0 ? { ...c, monthly: 0 } : c));

const nightArb = fc.record({
  guests: fc.tuple(
    ...VMIDS.map((vmid) =>
      fc.constantFrom<GuestSpec>(
        { vmid, status: 'saved' },
        { vmid, status: 'saved' },
        { vmid, status: 'failed' },
      ),
    ),
  ),
  /** Days since the night before: mostly 1, sometimes a gap. */
  days: fc.constantFrom(1, 1, 1, 1, 1, 1, 2, 3, 6, 9),
  /** The clock stepped back this many days from this night on (mostly 0). */
  clockBack: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 10),
  /** Minutes the node started later (or earlier) than the schedule. */
  jitterMin: fc.integer({ min: -90, max: 90 }),
  /** undefined: ran through; 0: killed before its manifest; k: killed after k NAS writes. */
  killAfter: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined, freq: 4 }),
  /** New counts from this night on. */
  recount: fc.option(countsArb, { nil: undefined, freq: 12 }),
});

const historyArb = fc.record({
  counts: countsArb,
  nights: fc.array(nightArb, { minLength: 5, maxLength: 70 }),
});

function isCrash(e: unknown): boolean {
  return e instanceof SimulatedCrash;
}

/** Readable manifests of the generations in the tree, by generation name. */
function generations(fs: MemoryFs): Map<string, Manifest> {
  const snap = fs.snapshot(NODE_DIR);
  const out = new Map<string, Manifest>();
  for (const name of topNames(fs)) {
    if (!parseGeneration(name)) continue;
    const text = snap[`${name}/manifest.json`];
    const r = text === undefined ? undefined : tryParseManifest(text);
    if (r?.ok) out.set(name, r.manifest);
  }
  return out;
}

function savedIn(m: Manifest | undefined): Set<number> {
  return new Set((m?.guests ?? []).filter((g) => g.status === 'saved').map((g) => g.vmid));
}

/** Whether `name` holds a saved guest that no newer generation (as plan.ts judges newer) holds. */
function holdsNewestCopy(gens: Map<string, Manifest>, name: string): boolean {
  const me = parseGeneration(name)!;
  const since = Date.parse(gens.get(name)!.startedAt);
  const rank = (t: string) => TIERS.indexOf(t as (typeof TIERS)[number]);
  const newer = [...gens.keys()].filter((other) => {
    const id = parseGeneration(other)!;
    if (id.tier === me.tier) return id.index < me.index;
    return rank(id.tier) < rank(me.tier) && Date.parse(gens.get(other)!.startedAt) > since;
  });
  return [...savedIn(gens.get(name))].some(
    (vmid) => !newer.some((other) => savedIn(gens.get(other)).has(vmid)),
  );
}

describe('rotation property with tiers', () => {
  it('keeps tiers within their counts and spacing and every guest its newest copy', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (h) => {
        const fs = new MemoryFs();
        fs.seedFile(`${NODE_DIR}/.lock`, 'lock');
        for (const [path, text] of Object.entries(FOREIGN))
          fs.seedFile(`${NODE_DIR}/${path}`, text);
        let counts = h.counts;
        /** The counts the tree must obey: those of the last night that rotated (a night that
         *  saved nothing leaves the tree as it was, so a shrink waits for the next rotation). */
        let bound = h.counts;
        let day = 0;
        let clockBack = 0;
        /** Newest night that durably saved each guest: its run id. */
        const newest = new Map<number, string>();

        for (const [n, night] of h.nights.entries()) {
          counts = night.recount ?? counts;
          day += night.days;
          clockBack += night.clockBack;
          const at = new Date(
            Date.UTC(2026, 0, 1) + (day - clockBack) * DAY + (120 + night.jitterMin) * 60_000,
          );
          const runId = `n${n}`;
          const o = { ...counts, logger, now: () => at };
          await prepareNodeTree(fs, NODE_DIR, { ...o, runId: `prep${n}` });
          seedUploads(fs, T, runId, night.guests);
          const manifest = { ...manifestFor(runId, night.guests), startedAt: at.toISOString() };
          if (night.killAfter !== undefined) fs.crashAfter(night.killAfter);
          try {
            await finishNodeRun(fs, NODE_DIR, manifest, { ...o, rotate: true });
          } catch (e) {
            if (!isCrash(e)) throw e;
          }
          fs.heal();
          // The manifest is the first write: killed before it, nothing of tonight was saved.
          if (night.killAfter !== 0) {
            for (const g of night.guests) if (g.status === 'saved') newest.set(g.vmid, runId);
          }
          const rotated = night.guests.some((g) => g.status === 'saved') || night.killAfter === 0;
          bound = rotated
            ? counts
            : {
                keep: Math.max(bound.keep, counts.keep),
                weekly: Math.max(bound.weekly, counts.weekly),
                monthly: Math.max(bound.monthly, counts.monthly),
              };
          // Heal as the next run would (it adopts what a killed night left).
          await prepareNodeTree(fs, NODE_DIR, { ...o, runId: `heal${n}` });

          const names = topNames(fs);
          const gens = generations(fs);
          const snap = fs.snapshot(NODE_DIR);
          // Tiers numbered without gaps; nothing else of ours left over.
          for (const tier of TIERS) {
            const inTier = names.filter((x) => parseGeneration(x)?.tier === tier);
            expect(inTier.sort(), `night ${n} ${tier}`).toEqual(
              inTier.map((_, i) => `${tier}.${i}`).sort(),
            );
            const limit = tier === 'daily' ? bound.keep : bound[tier];
            const counted = inTier.filter((x) => savedIn(gens.get(x)).size > 0 || !gens.has(x));
            const plain = counted.filter((x) => !holdsNewestCopy(gens, x));
            expect(
              plain.length,
              `night ${n}: ${tier} holds ${inTier.join(' ')}`,
            ).toBeLessThanOrEqual(limit);
          }
          expect(names.filter((x) => !parseGeneration(x))).toEqual(
            ['.lock', 'weekly.01', 'yearly.0'].concat(['daily.07']).sort(),
          );
          for (const [path, text] of Object.entries(FOREIGN)) expect(snap[path]).toBe(text);

          // Spacing within the upper tiers, by startedAt in whole days.
          for (const [tier, days] of [
            ['weekly', 7],
            ['monthly', 28],
          ] as const) {
            for (let i = 0; gens.has(`${tier}.${i + 1}`); i++) {
              const a = Date.parse(gens.get(`${tier}.${i}`)!.startedAt);
              const b = Date.parse(gens.get(`${tier}.${i + 1}`)!.startedAt);
              expect(
                Math.round((a - b) / DAY),
                `night ${n}: ${tier}.${i} vs ${i + 1}`,
              ).toBeGreaterThanOrEqual(days);
            }
          }

          // Every guest keeps the copy of its newest saving night.
          for (const [vmid, run] of newest) {
            const holder = [...gens].find(
              ([, m]) =>
                m.runId === run && m.guests.some((g) => g.vmid === vmid && g.status === 'saved'),
            );
            expect(holder, `night ${n}: guest ${vmid}'s newest copy (${run})`).toBeDefined();
            expect(snap[`${holder![0]}/${archiveName(run, vmid)}`]).toBeDefined();
          }
        }
      }),
      {
        numRuns: Number(process.env.ROTATION_PROPERTY_RUNS ?? 500),
        seed: Number(process.env.ROTATION_PROPERTY_SEED ?? 20261205),
      },
    );
  });
});
