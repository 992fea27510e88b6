/**
 * The planner with retention tiers (weekly.N, monthly.N): promotion by rename,
 * spacing by startedAt, count changes, and the newest-good-copy rule across tiers.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../../src/ftp/manifest.js';
import type { RemoteEntry } from '../../../../src/ftp/remoteFs.js';
import { applyRenames } from '../../../../src/ftp/rotation/exec.js';
import {
  type PlanInput,
  planRotation,
  type RotationPlan,
} from '../../../../src/ftp/rotation/plan.js';
import { type GuestSpec, manifestFor } from './trees.js';

const dir = (name: string): RemoteEntry => ({ name, type: 'dir', size: 0 });
const saved = (...vmids: number[]): GuestSpec[] => vmids.map((vmid) => ({ vmid, status: 'saved' }));
const failed = (...vmids: number[]): GuestSpec[] =>
  vmids.map((vmid) => ({ vmid, status: 'failed' }));

/** A manifest of a run that started on day `d` of 2026 at 02:00 UTC. */
function onDay(d: number, guests: GuestSpec[] = saved(101)): Manifest {
  const m = manifestFor(`day${d}`, guests);
  const t = Date.UTC(2026, 0, 1 + d, 2, 0, 0);
  return {
    ...m,
    startedAt: new Date(t).toISOString(),
    finishedAt: new Date(t + 60_000).toISOString(),
  };
}

/** Plan with every generation's manifest given (a name without one reads as unreadable). */
function plan(
  tree: Record<string, Manifest | null>,
  counts: Pick<PlanInput, 'keep' | 'weekly' | 'monthly'>,
  withTransfer = true,
): RotationPlan {
  const entries = Object.keys(tree).map(dir);
  const out = planRotation({
    entries,
    ...counts,
    withTransfer,
    manifests: new Map(Object.entries(tree)),
    runId: 'r9',
  });
  if (out.kind !== 'plan') throw new Error(`planner asked for ${out.names.join(', ')}`);
  return out.plan;
}

/** Generation → the day of its manifest, after the plan ran (trash dropped). */
function daysAfter(tree: Record<string, Manifest | null>, p: RotationPlan): Record<string, string> {
  const after = applyRenames(Object.keys(tree).map(dir), p.renames);
  const byOld = new Map(p.final.map((s) => [s.to, s.from]));
  const out: Record<string, string> = {};
  for (const e of after) {
    if (p.trash.includes(e.name)) continue;
    out[e.name] = tree[byOld.get(e.name) ?? e.name]?.runId ?? 'unreadable';
  }
  return out;
}

describe('planRotation with tiers', () => {
  it('promotes the daily that falls past keep into an empty weekly tier, by rename', () => {
    const tree = {
      transfer: onDay(3),
      'daily.0': onDay(2),
      'daily.1': onDay(1),
      'daily.2': onDay(0),
    };
    const p = plan(tree, { keep: 3, weekly: 2 });
    expect(p.removed).toEqual([]);
    expect(p.promoted).toEqual([{ from: 'daily.2', to: 'weekly.0' }]);
    expect(p.renames).toEqual([
      { from: 'daily.2', to: 'weekly.0' },
      { from: 'daily.1', to: 'daily.2' },
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
  });

  it('removes the candidate when the newest weekly is less than 7 days older', () => {
    const tree = {
      transfer: onDay(10),
      'daily.0': onDay(9),
      'daily.1': onDay(8),
      'daily.2': onDay(7), // 4 days after weekly.0: removed
      'weekly.0': onDay(3),
    };
    const p = plan(tree, { keep: 3, weekly: 2 });
    expect(p.promoted).toEqual([]);
    expect(p.removed.map((r) => r.name)).toEqual(['daily.2']);
    expect(daysAfter(tree, p)).toEqual({
      'daily.0': 'day10',
      'daily.1': 'day9',
      'daily.2': 'day8',
      'weekly.0': 'day3',
    });
  });

  it('all three tiers full: the oldest monthly goes, one weekly and one daily move down a tier', () => {
    const tree = {
      transfer: onDay(100),
      'daily.0': onDay(99),
      'daily.1': onDay(98),
      'daily.2': onDay(97),
      'weekly.0': onDay(90),
      'weekly.1': onDay(83),
      'monthly.0': onDay(55),
      'monthly.1': onDay(27),
    };
    const p = plan(tree, { keep: 3, weekly: 2, monthly: 2 });
    expect(p.renames).toEqual([
      { from: 'monthly.1', to: '.trash-monthly.1-r9' },
      { from: 'monthly.0', to: 'monthly.1' },
      { from: 'weekly.1', to: 'monthly.0' },
      { from: 'weekly.0', to: 'weekly.1' },
      { from: 'daily.2', to: 'weekly.0' },
      { from: 'daily.1', to: 'daily.2' },
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(p.promoted).toEqual([
      { from: 'daily.2', to: 'weekly.0' },
      { from: 'weekly.1', to: 'monthly.0' },
    ]);
    expect(p.removed.map((r) => r.name)).toEqual(['monthly.1']);
  });

  it('a weekly that falls past its count waits for 28 days to the newest monthly, else goes', () => {
    const tree = {
      transfer: onDay(100),
      'daily.0': onDay(99),
      'weekly.0': onDay(90), // promoted? no: daily.0 is within keep=2
      'weekly.1': onDay(83),
      'weekly.2': onDay(76), // past weekly=2; monthly.0 is 21 days older: removed
      'monthly.0': onDay(55),
    };
    const p = plan(tree, { keep: 2, weekly: 2, monthly: 3 });
    expect(p.removed.map((r) => r.name)).toEqual(['weekly.2']);
    expect(p.promoted).toEqual([]);
  });

  it('shrinking weekly 4 → 2 removes the two oldest weeklies at the next rotation', () => {
    const tree = {
      transfer: onDay(30),
      'daily.0': onDay(29),
      'weekly.0': onDay(28),
      'weekly.1': onDay(21),
      'weekly.2': onDay(14),
      'weekly.3': onDay(7),
    };
    const p = plan(tree, { keep: 2, weekly: 2 });
    expect(p.removed.map((r) => r.name)).toEqual(['weekly.2', 'weekly.3']);
    expect(daysAfter(tree, p)).toEqual({
      'daily.0': 'day30',
      'daily.1': 'day29',
      'weekly.0': 'day28',
      'weekly.1': 'day21',
    });
  });

  it('growing monthly 0 → 6 starts filling it with the weekly that falls past its count', () => {
    const tree = {
      transfer: onDay(30),
      'daily.0': onDay(29),
      'weekly.0': onDay(28),
      'weekly.1': onDay(21),
      'weekly.2': onDay(14),
    };
    const p = plan(tree, { keep: 2, weekly: 2, monthly: 6 });
    expect(p.promoted).toEqual([{ from: 'weekly.2', to: 'monthly.0' }]);
    expect(p.removed).toEqual([]);
  });

  it('several candidates at once are offered oldest first, each promotion becoming the newest', () => {
    // keep shrank 6 → 2: four dailies past keep, weekly empty; days 10, 12, 17, 18.
    const tree = {
      transfer: onDay(20),
      'daily.0': onDay(19),
      'daily.1': onDay(18),
      'daily.2': onDay(17),
      'daily.3': onDay(12),
      'daily.4': onDay(10),
    };
    const p = plan(tree, { keep: 2, weekly: 4 });
    // 10 → weekly (empty tier); 12: 2 days later, removed; 17: 7 days after 10, promoted; 18 removed.
    expect(daysAfter(tree, p)).toEqual({
      'daily.0': 'day20',
      'daily.1': 'day19',
      'weekly.0': 'day17',
      'weekly.1': 'day10',
    });
  });

  it('a generation that saved nothing is never promoted, and goes once its guests are saved anew', () => {
    const tree = {
      transfer: onDay(20),
      'daily.0': onDay(19),
      'daily.1': { ...onDay(12, failed(101)), incomplete: true as const },
    };
    const p = plan(tree, { keep: 1, weekly: 4 });
    expect(p.promoted).toEqual([{ from: 'daily.0', to: 'weekly.0' }]);
    expect(p.removed.map((r) => r.name)).toEqual(['daily.1']);
  });

  it('a clock stepped backwards never promotes: the candidate looks older than the newest weekly', () => {
    const tree = { transfer: onDay(5), 'daily.0': onDay(3), 'weekly.0': onDay(40) };
    const p = plan(tree, { keep: 1, weekly: 4 });
    expect(p.promoted).toEqual([]);
    expect(p.removed.map((r) => r.name)).toEqual(['daily.0']);
  });

  it('an unreadable newest weekly does not freeze the tier: the newest readable one decides', () => {
    const tree = {
      transfer: onDay(30),
      'daily.0': onDay(29),
      'weekly.0': null,
      'weekly.1': onDay(14),
    };
    const p = plan(tree, { keep: 1, weekly: 4 });
    expect(p.promoted).toEqual([{ from: 'daily.0', to: 'weekly.0' }]);
    expect(daysAfter(tree, p)).toEqual({
      'daily.0': 'day30',
      'weekly.0': 'day29',
      'weekly.1': 'unreadable',
      'weekly.2': 'day14',
    });
  });

  it('keeps the newest copy of a failing guest in its tier past the count, and says so', () => {
    // 102 was last saved on day 7 (daily.2); weekly.0 is only 3 days older: not promoted.
    const tree = {
      transfer: onDay(10, [...saved(101), ...failed(102)]),
      'daily.0': onDay(9, [...saved(101), ...failed(102)]),
      'daily.1': onDay(8, [...saved(101), ...failed(102)]),
      'daily.2': onDay(7, saved(101, 102)),
      'weekly.0': onDay(4, saved(101, 102)),
    };
    const p = plan(tree, { keep: 3, weekly: 2 });
    expect(p.removed).toEqual([]);
    expect(p.protected).toEqual([
      {
        name: 'daily.2',
        newName: 'daily.3',
        vmids: [102],
        reason: expect.stringMatching(/past keep=3: newest good copy of guest\(s\) 102/),
      },
    ]);
  });

  it('across tiers, an older generation kept past its count does not count as a newer copy', () => {
    // daily.2 (day 3) stayed past keep for 102. weekly.0 (day 8) is newer and holds 101's
    // newest copy. Tonight day 15 is promoted and pushes day 8 past weekly=1: it must stay
    // for 101, although daily.2 — older, but earlier in tier order — also saved 101.
    const tree = {
      transfer: onDay(17, [...saved(103), ...failed(101, 102)]),
      'daily.0': onDay(16, [...saved(103), ...failed(101, 102)]),
      'daily.1': onDay(15, [...saved(103), ...failed(101, 102)]),
      'daily.2': onDay(3, saved(101, 102, 103)),
      'weekly.0': onDay(8, [...saved(101, 103), ...failed(102)]),
    };
    const p = plan(tree, { keep: 2, weekly: 1 });
    expect(p.promoted).toEqual([{ from: 'daily.1', to: 'weekly.0' }]);
    expect(p.removed).toEqual([]);
    const kept = p.protected.map((g) => [g.name, g.newName, g.vmids]);
    expect(kept).toContainEqual(['weekly.0', 'weekly.1', [101]]);
    // Conservative the other way too: a copy in an older tier never counts as newer.
    expect(kept).toContainEqual(['daily.2', 'daily.2', [101, 102]]);
  });

  it('a run that adds nothing only closes gaps, in every tier', () => {
    const tree = { 'daily.1': onDay(9), 'weekly.2': onDay(3), 'monthly.4': onDay(0) };
    const p = plan(tree, { keep: 3, weekly: 2, monthly: 2 }, false);
    expect(p.renames).toEqual([
      { from: 'daily.1', to: 'daily.0' },
      { from: 'weekly.2', to: 'weekly.0' },
      { from: 'monthly.4', to: 'monthly.0' },
    ]);
  });

  it('weekly 0 and monthly 0 leave weekly.N / monthly.N of an earlier config to age out', () => {
    const tree = { transfer: onDay(30), 'daily.0': onDay(29), 'weekly.0': onDay(20) };
    const p = plan(tree, { keep: 1 });
    expect(p.removed.map((r) => r.name)).toEqual(['daily.0', 'weekly.0']);
  });
});
