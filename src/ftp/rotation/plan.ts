/**
 * Pure rotation planner: a node directory listing (plus the manifests it
 * needs) in, an ordered list of renames out. No I/O, so every case — gaps,
 * promotions between tiers, protection past a count, foreign names — is
 * unit-tested without a server.
 *
 * Tiers (docs/contract.md "Retention"): `transfer` enters as `daily.0`; a
 * generation that falls past `keep` is promoted by rename to `weekly.0` when
 * the weekly tier's newest started at least 7 days earlier (tiers.ts), else it
 * is removed; the same from weekly to monthly (28 days); past `monthly` it is
 * removed. A generation holding some guest's newest good copy is never removed:
 * it stays in its tier past the count. One that saved nothing (a killed run's
 * leftover) never counts, is never promoted, and goes once every guest it
 * mentions has a newer saved copy.
 *
 * Order of the steps, and why it is crash-safe (see exec.ts for replay):
 * 1. generations that retention drops are renamed aside to a trash name;
 * 2. moves to a later place (a higher index, or a promotion to an older tier)
 *    go first, the oldest source first, so `transfer` → `daily.0` is the last
 *    of them; then moves to a lower index (closing gaps), lowest first. Each
 *    tier keeps its age order, so every target is free when its rename runs:
 *    a rename never lands on an existing directory (FTP servers refuse a
 *    non-empty one and silently *replace* an empty one);
 * 3. the trash is deleted only after all renames (by the executor).
 * No name is the target of two renames, and no name that was a target is a
 * source later. That makes "source present and target absent" an exact test
 * of "this step has not run yet", which is what replay relies on.
 */

import { type Manifest, mentionedGuests, savedGuests } from '../manifest.js';
import type { RemoteEntry } from '../remoteFs.js';
import {
  generationName,
  generationOrder,
  parseGeneration,
  TIERS,
  type Tier,
  TRANSFER,
  trashName,
} from './names.js';
import { parseTime, shouldPromote } from './tiers.js';

/** One rename, relative to the node directory. */
export interface RenameStep {
  from: string;
  to: string;
}

/** A generation kept past its tier's count because it holds the newest good copy of some guest. */
export interface ProtectedGeneration {
  name: string;
  newName: string;
  vmids: number[];
  reason: string;
}

/** What a rotation will do. */
export interface RotationPlan {
  /** In execution order. */
  renames: RenameStep[];
  /** Trash names to delete once the renames are done. */
  trash: string[];
  /** Generations dropped by retention, with the trash name each goes to. */
  removed: { name: string; trash: string }[];
  /** Generations moved into an older tier (`daily.9` → `weekly.0`), old → new name. */
  promoted: RenameStep[];
  protected: ProtectedGeneration[];
  /** Every surviving generation, by tier, newest first: old name → final name. */
  final: RenameStep[];
}

/** How many generations each tier holds; weekly and monthly default to 0 (no such tier). */
export interface RetentionCounts {
  keep: number;
  weekly?: number;
  monthly?: number;
}

/** Input of {@link planRotation}. */
export interface PlanInput extends RetentionCounts {
  /** Listing of the node directory. */
  entries: readonly RemoteEntry[];
  /** `transfer/` enters as the newest generation (a saved run, or a leftover adopted). */
  withTransfer: boolean;
  /**
   * Manifests by entry name. `null`: missing or unreadable (protects nothing).
   * A name not in the map has not been read yet.
   */
  manifests: ReadonlyMap<string, Manifest | null>;
  /** Used in trash names. */
  runId: string;
}

/** Either the plan, or the manifests the planner must see first (read them, call again). */
export type PlanOutcome = { kind: 'plan'; plan: RotationPlan } | { kind: 'need'; names: string[] };

/** A plan that cannot be carried out without touching a foreign name. */
export class RotationPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationPlanError';
  }
}

/** The generation directories of each tier, newest first (`transfer` first among dailies when it enters). */
export function tierOrder(
  entries: readonly RemoteEntry[],
  withTransfer: boolean,
): Record<Tier, string[]> {
  const tiers: Record<Tier, string[]> = { daily: [], weekly: [], monthly: [] };
  const gens = entries
    .filter((e) => e.type === 'dir' && parseGeneration(e.name) !== undefined)
    .map((e) => e.name)
    .sort((a, b) => generationOrder(a) - generationOrder(b));
  for (const name of gens) tiers[parseGeneration(name)!.tier].push(name);
  if (withTransfer) {
    if (!entries.some((e) => e.name === TRANSFER && e.type === 'dir')) {
      throw new RotationPlanError(`${TRANSFER}/ is missing, nothing to rotate in`);
    }
    tiers.daily.unshift(TRANSFER);
  }
  return tiers;
}

/** Generation directories in structural order: transfer, daily, weekly, monthly. */
export function ageOrder(entries: readonly RemoteEntry[], withTransfer: boolean): string[] {
  const t = tierOrder(entries, withTransfer);
  return [...t.daily, ...t.weekly, ...t.monthly];
}

/**
 * Plan a rotation. Retention only drops or promotes generations when a new one
 * enters (`withTransfer`): a run that adds nothing only closes gaps.
 *
 * When a generation enters, every generation's manifest is needed: whether one
 * counts, is promoted (its `startedAt`) or is protected depends on it.
 */
export function planRotation(input: PlanInput): PlanOutcome {
  const counts = checkCounts(input);
  const { manifests } = input;
  const existing = tierOrder(input.entries, input.withTransfer);

  if (input.withTransfer) {
    const need = TIERS.flatMap((t) => existing[t]).filter((n) => !manifests.has(n));
    if (need.length > 0) return { kind: 'need', names: need };
  }
  const decided = input.withTransfer
    ? decideTiers(existing, counts, manifests)
    : { survivors: existing, dropped: [], guards: new Map<string, Guard>() };

  const taken = new Set(input.entries.map((e) => e.name));
  const dropped = [...decided.dropped].sort((a, b) => generationOrder(a) - generationOrder(b));
  const removed = dropped.map((name) => {
    const trash = trashName(name, input.runId, taken);
    taken.add(trash);
    return { name, trash };
  });
  const final = TIERS.flatMap((tier) =>
    decided.survivors[tier].map((from, i) => ({ from, to: generationName(tier, i) })),
  );
  const moves = final.filter((s) => s.from !== s.to);
  const up = moves.filter((s) => generationOrder(s.to) > generationOrder(s.from));
  const down = moves.filter((s) => generationOrder(s.to) < generationOrder(s.from));
  up.sort((a, b) => generationOrder(b.from) - generationOrder(a.from));
  down.sort((a, b) => generationOrder(a.from) - generationOrder(b.from));
  const renames = [...removed.map((r) => ({ from: r.name, to: r.trash })), ...up, ...down];
  checkSteps(input.entries, renames);

  const tierOf = (name: string) => (name === TRANSFER ? 'daily' : parseGeneration(name)?.tier);
  const promoted = final.filter((s) => tierOf(s.from) !== tierOf(s.to));
  const protectedGens = final
    .filter((s) => decided.guards.has(s.from))
    .map((s) => {
      const { vmids, unverified, tier } = decided.guards.get(s.from)!;
      const count = `${tier === 'daily' ? 'keep' : tier}=${counts[tier]}`;
      return {
        name: s.from,
        newName: s.to,
        vmids,
        reason: unverified
          ? `kept, not counted toward ${count}: unverified copies of guest(s) ${vmids.join(', ')} from an interrupted run, which have no newer saved copy`
          : `kept past ${count}: newest good copy of guest(s) ${vmids.join(', ')}`,
      };
    });
  return {
    kind: 'plan',
    plan: {
      renames,
      trash: removed.map((r) => r.trash),
      removed,
      promoted,
      protected: protectedGens,
      final,
    },
  };
}

function checkCounts(input: RetentionCounts): Record<Tier, number> {
  const counts = { daily: input.keep, weekly: input.weekly ?? 0, monthly: input.monthly ?? 0 };
  const min = { daily: 1, weekly: 0, monthly: 0 };
  for (const tier of TIERS) {
    if (!Number.isInteger(counts[tier]) || counts[tier] < min[tier]) {
      const key = tier === 'daily' ? 'keep' : tier;
      throw new RotationPlanError(`${key} must be an integer >= ${min[tier]}, got ${counts[tier]}`);
    }
  }
  return counts;
}

/** Why a generation past its count (or one that saved nothing) stays. */
interface Guard {
  vmids: number[];
  /** It saved nothing: the copies it guards were never verified. */
  unverified: boolean;
  tier: Tier;
}

/**
 * Walk the tiers newest first. In each, the generations that saved something
 * fill the count in age order; those past it are offered, oldest first, to the
 * next tier (promoted when its spacing allows, each promotion becoming that
 * tier's newest), and otherwise removed unless they guard a guest's newest copy.
 */
function decideTiers(
  existing: Record<Tier, string[]>,
  counts: Record<Tier, number>,
  manifests: ReadonlyMap<string, Manifest | null>,
): { survivors: Record<Tier, string[]>; dropped: string[]; guards: Map<string, Guard> } {
  const survivors: Record<Tier, string[]> = { daily: [], weekly: [], monthly: [] };
  const incoming: Record<Tier, string[]> = { daily: [], weekly: [], monthly: [] };
  const dropped: string[] = [];
  const guards = new Map<string, Guard>();
  const lowerSurvivors: string[] = [];

  TIERS.forEach((tier, t) => {
    const seq = [...incoming[tier], ...existing[tier]];
    const kept = new Set<string>();
    const overflow: number[] = [];
    const keepUnlessCovered = (position: number, counting: boolean) => {
      const name = seq[position]!;
      const vmids = uncoveredGuests(seq, position, lowerSurvivors, manifests, counting);
      if (vmids.length === 0) {
        dropped.push(name);
        return;
      }
      kept.add(name);
      guards.set(name, { vmids, unverified: !counting, tier });
    };
    let counted = 0;
    seq.forEach((name, position) => {
      const manifest = manifests.get(name);
      // An unreadable manifest (null) is unknown content: it counts, as any generation did.
      const counting = manifest === null || savedGuests(manifest).size > 0;
      if (!counting) {
        keepUnlessCovered(position, false);
      } else if (counted < counts[tier]) {
        counted++;
        kept.add(name);
      } else {
        overflow.push(position);
      }
    });
    const next = TIERS[t + 1];
    for (const position of overflow.reverse()) {
      const name = seq[position]!;
      if (next !== undefined && next !== 'daily' && counts[next] > 0) {
        const newest = newestStartedAt([...incoming[next], ...existing[next]], manifests);
        if (shouldPromote(next, manifests.get(name)?.startedAt, newest)) {
          incoming[next].unshift(name);
          continue;
        }
      }
      keepUnlessCovered(position, true);
    }
    survivors[tier] = seq.filter((name) => kept.has(name));
    lowerSurvivors.push(...survivors[tier]);
  });
  return { survivors, dropped, guards };
}

/** `startedAt` of the newest generation in `names` whose time is readable. */
function newestStartedAt(
  names: readonly string[],
  manifests: ReadonlyMap<string, Manifest | null>,
): string | undefined {
  // An unreadable manifest at the top of a tier must not freeze promotions for good.
  for (const name of names) {
    const at = manifests.get(name)?.startedAt;
    if (parseTime(at) !== undefined) return at;
  }
  return undefined;
}

/**
 * Guests of `seq[position]` with no saved copy in a newer generation: an
 * earlier one of the same tier (structural order, always right), or a
 * surviving generation of a newer tier that started later. Across tiers the
 * start time decides because a generation kept past its count can be older
 * than the tier below's newest; when the clock disagrees, the copy is kept.
 */
function uncoveredGuests(
  seq: readonly string[],
  position: number,
  lowerSurvivors: readonly string[],
  manifests: ReadonlyMap<string, Manifest | null>,
  counting: boolean,
): number[] {
  const manifest = manifests.get(seq[position]!) ?? undefined;
  // A generation that saved something guards its saved guests; one that saved nothing
  // guards every guest it mentions (its archives are unverified, maybe the only copy).
  const uncovered = counting ? savedGuests(manifest) : mentionedGuests(manifest);
  for (let q = 0; q < position && uncovered.size > 0; q++) {
    for (const vmid of savedGuests(manifests.get(seq[q]!) ?? undefined)) uncovered.delete(vmid);
  }
  const since = parseTime(manifest?.startedAt);
  for (const name of lowerSurvivors) {
    if (uncovered.size === 0) break;
    const other = manifests.get(name) ?? undefined;
    const at = parseTime(other?.startedAt);
    if (since === undefined || at === undefined || at <= since) continue;
    for (const vmid of savedGuests(other)) uncovered.delete(vmid);
  }
  return [...uncovered].sort((a, b) => a - b);
}

/** Dry-run the renames on the names present; a clash means a foreign entry is in the way. */
function checkSteps(entries: readonly RemoteEntry[], renames: readonly RenameStep[]): void {
  const present = new Set(entries.map((e) => e.name));
  for (const { from, to } of renames) {
    if (!present.has(from)) throw new RotationPlanError(`rotation would rename missing ${from}`);
    if (present.has(to)) {
      throw new RotationPlanError(
        `cannot rename ${from} to ${to}: ${to} exists and is not a generation`,
      );
    }
    present.delete(from);
    present.add(to);
  }
}
