import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../../src/ftp/manifest.js';
import type { RemoteEntry } from '../../../../src/ftp/remoteFs.js';
import { applyRenames } from '../../../../src/ftp/rotation/exec.js';
import {
  type PlanInput,
  planRotation,
  type RotationPlan,
  RotationPlanError,
} from '../../../../src/ftp/rotation/plan.js';
import { manifestFor } from './trees.js';

const dir = (name: string): RemoteEntry => ({ name, type: 'dir', size: 0 });
const file = (name: string): RemoteEntry => ({ name, type: 'file', size: 1 });
const gens = (...idx: number[]) => idx.map((i) => dir(`daily.${i}`));

function plan(
  entries: RemoteEntry[],
  o: Partial<PlanInput> & { keep: number },
  manifests: Record<string, Manifest | null> = {},
): RotationPlan {
  const map = new Map(Object.entries(manifests));
  const input: PlanInput = { entries, withTransfer: false, manifests: map, runId: 'r9', ...o };
  // Answer the planner's manifest requests from `manifests` (null when not given), like nodeTree.ts.
  for (let i = 0; i < 20; i++) {
    const out = planRotation({ ...input, manifests: map });
    if (out.kind === 'plan') return out.plan;
    for (const n of out.names) map.set(n, manifests[n] ?? null);
  }
  throw new Error('planner did not settle');
}

/** Names after the plan's renames, the trash dropped: what the executor leaves behind. */
function namesAfter(entries: RemoteEntry[], p: RotationPlan): string[] {
  return applyRenames(entries, p.renames)
    .map((e) => e.name)
    .filter((n) => !p.trash.includes(n))
    .sort();
}

const saved = (...vmids: number[]) => vmids.map((vmid) => ({ vmid, status: 'saved' as const }));
const failed = (...vmids: number[]) => vmids.map((vmid) => ({ vmid, status: 'failed' as const }));

describe('planRotation', () => {
  it('does nothing for an empty node directory', () => {
    const p = plan([], { keep: 3 });
    expect(p.renames).toEqual([]);
    expect(p.final).toEqual([]);
  });

  it('first run: transfer becomes daily.0', () => {
    const p = plan([dir('transfer')], { keep: 3, withTransfer: true });
    expect(p.renames).toEqual([{ from: 'transfer', to: 'daily.0' }]);
  });

  it('full tree: oldest goes to trash first, shifts highest first, transfer last', () => {
    const entries = [dir('transfer'), ...gens(0, 1, 2)];
    const p = plan(entries, { keep: 3, withTransfer: true });
    expect(p.renames).toEqual([
      { from: 'daily.2', to: '.trash-daily.2-r9' },
      { from: 'daily.1', to: 'daily.2' },
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(p.trash).toEqual(['.trash-daily.2-r9']);
    expect(p.removed).toEqual([{ name: 'daily.2', trash: '.trash-daily.2-r9' }]);
    expect(namesAfter(entries, p)).toEqual(['daily.0', 'daily.1', 'daily.2']);
  });

  it("asks for every generation's manifest when one enters (whether each counts depends on it)", () => {
    const entries = [dir('transfer'), ...gens(0, 1, 2)];
    const manifests = new Map<string, Manifest | null>([
      ['transfer', manifestFor('new', saved(101))],
    ]);
    const first = planRotation({ entries, keep: 3, withTransfer: true, manifests, runId: 'r' });
    expect(first).toEqual({ kind: 'need', names: ['daily.0', 'daily.1', 'daily.2'] });
    for (const g of ['daily.0', 'daily.1', 'daily.2']) manifests.set(g, manifestFor(g, saved(101)));
    const second = planRotation({ entries, keep: 3, withTransfer: true, manifests, runId: 'r' });
    expect(second.kind).toBe('plan');
  });

  it('a generation that saved nothing does not count toward keep, and goes once its guests are saved anew', () => {
    const entries = [dir('transfer'), ...gens(0, 1, 2)];
    const incomplete = (vmids: number[]): Manifest => ({
      ...manifestFor('killed', []),
      incomplete: true,
      guests: vmids.map((vmid) => ({ vmid, type: 'lxc', name: '', status: 'failed', files: [] })),
    });
    // daily.0 is a killed night's leftover holding an unverified copy of 102 only.
    const p = plan(
      entries,
      { keep: 2, withTransfer: true },
      {
        transfer: manifestFor('new', saved(101)),
        'daily.0': incomplete([102]),
        'daily.1': manifestFor('b', saved(101, 102)),
        'daily.2': manifestFor('a', saved(101, 102)),
      },
    );
    // transfer and daily.1 are the two counted; the leftover stays (102 has no newer saved
    // copy than it), not counted; daily.2 falls past keep.
    expect(p.removed.map((r) => r.name)).toEqual(['daily.2']);
    expect(p.protected.map((g) => [g.name, g.vmids])).toEqual([['daily.0', [102]]]);
    expect(p.protected[0]?.reason).toMatch(/not counted toward keep=2: unverified copies/);
    // Once 102 is saved again, the leftover goes and takes nothing with it.
    const q = plan(
      entries,
      { keep: 2, withTransfer: true },
      {
        transfer: manifestFor('new', saved(101, 102)),
        'daily.0': incomplete([102]),
        'daily.1': manifestFor('b', saved(101, 102)),
        'daily.2': manifestFor('a', saved(101, 102)),
      },
    );
    expect(q.removed.map((r) => r.name)).toEqual(['daily.0', 'daily.2']);
    expect(namesAfter(entries, q)).toEqual(['daily.0', 'daily.1']);
  });

  it('keep=1: only the new generation stays', () => {
    const entries = [dir('transfer'), ...gens(0)];
    const p = plan(
      entries,
      { keep: 1, withTransfer: true },
      {
        transfer: manifestFor('b', saved(101)),
        'daily.0': manifestFor('a', saved(101)),
      },
    );
    expect(p.removed.map((r) => r.name)).toEqual(['daily.0']);
    expect(namesAfter(entries, p)).toEqual(['daily.0']);
    expect(p.renames.at(-1)).toEqual({ from: 'transfer', to: 'daily.0' });
  });

  it('closes gaps in age order without a new generation and removes nothing', () => {
    const entries = gens(0, 3, 7, 12);
    const p = plan(entries, { keep: 2 });
    expect(p.removed).toEqual([]);
    expect(p.renames).toEqual([
      { from: 'daily.3', to: 'daily.1' },
      { from: 'daily.7', to: 'daily.2' },
      { from: 'daily.12', to: 'daily.3' },
    ]);
  });

  it('mixes upward shifts and gap closing with a new generation', () => {
    const entries = [dir('transfer'), ...gens(0, 1, 4, 6)];
    const p = plan(entries, { keep: 10, withTransfer: true });
    expect(p.final).toEqual([
      { from: 'transfer', to: 'daily.0' },
      { from: 'daily.0', to: 'daily.1' },
      { from: 'daily.1', to: 'daily.2' },
      { from: 'daily.4', to: 'daily.3' },
      { from: 'daily.6', to: 'daily.4' },
    ]);
    expect(namesAfter(entries, p)).toEqual(['daily.0', 'daily.1', 'daily.2', 'daily.3', 'daily.4']);
  });

  it('keeps the newest good copy of a guest past keep and says why', () => {
    const entries = [dir('transfer'), ...gens(0, 1, 2)];
    const p = plan(
      entries,
      { keep: 2, withTransfer: true },
      {
        transfer: manifestFor('d', [...saved(101), ...failed(102)]),
        'daily.0': manifestFor('c', [...saved(101), ...failed(102)]),
        'daily.1': manifestFor('b', saved(101, 102)),
        'daily.2': manifestFor('a', saved(101, 102)),
      },
    );
    expect(p.removed.map((r) => r.name)).toEqual(['daily.2']);
    expect(p.protected).toEqual([
      { name: 'daily.1', newName: 'daily.2', vmids: [102], reason: expect.stringMatching(/102/) },
    ]);
    expect(namesAfter(entries, p)).toEqual(['daily.0', 'daily.1', 'daily.2']);
  });

  it('a missing or unreadable manifest protects nothing', () => {
    const entries = [dir('transfer'), ...gens(0, 1)];
    const p = plan(
      entries,
      { keep: 1, withTransfer: true },
      {
        transfer: manifestFor('c', saved(101)),
        'daily.0': null,
        'daily.1': null,
      },
    );
    expect(p.removed.map((r) => r.name)).toEqual(['daily.0', 'daily.1']);
  });

  it('leaves foreign names alone and avoids their names for trash', () => {
    const foreign = [
      file('.lock'),
      dir('daily.01'),
      file('notes.txt'),
      dir('daily.x'),
      dir('.trash-daily.1-r9'),
    ];
    const entries = [...foreign, dir('transfer'), ...gens(0, 1)];
    const p = plan(entries, { keep: 1, withTransfer: true });
    const touched = new Set(p.renames.flatMap((s) => [s.from, s.to]));
    for (const f of foreign) expect(touched.has(f.name)).toBe(false);
    expect(p.trash).toContain('.trash-daily.1-r9-2');
  });

  it('refuses a plan that would rename onto a foreign file', () => {
    const entries = [dir('transfer'), ...gens(0), file('daily.1')];
    expect(() => plan(entries, { keep: 5, withTransfer: true })).toThrow(RotationPlanError);
  });

  it('refuses keep < 1 and a missing transfer/', () => {
    expect(() => plan(gens(0), { keep: 0 })).toThrow(RotationPlanError);
    expect(() => plan(gens(0), { keep: 2, withTransfer: true })).toThrow(/transfer/);
  });

  it('never targets a name twice nor reuses a target as a source (replay relies on it)', () => {
    const entries = [dir('transfer'), ...gens(0, 2, 3, 5, 8, 9, 11)];
    const p = plan(
      entries,
      { keep: 4, withTransfer: true },
      {
        'daily.9': manifestFor('x', saved(109)),
      },
    );
    const targets = new Set<string>();
    for (const s of p.renames) {
      expect(targets.has(s.to)).toBe(false);
      expect(targets.has(s.from)).toBe(false);
      targets.add(s.to);
    }
    expect(p.protected.map((g) => g.name)).toEqual(['daily.9']);
    expect(namesAfter(entries, p)).toEqual(['daily.0', 'daily.1', 'daily.2', 'daily.3', 'daily.4']);
  });
});
