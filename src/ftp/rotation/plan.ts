/**
 * Pure rotation planner: a node directory listing (plus the manifests it
 * needs) in, an ordered list of renames out. No I/O, so every case — gaps,
 * protection past `keep`, foreign names — is unit-tested without a server.
 *
 * Order of the steps, and why it is crash-safe (see exec.ts for replay):
 * 1. generations that retention drops are renamed aside to a trash name;
 * 2. generations moving to a higher index go first, highest first, then those
 *    moving down (closing gaps), lowest first, `transfer` → `daily.0` last of
 *    the upward moves. Retention keeps the age order, so every target is free
 *    when its rename runs: a rename never lands on an existing directory (FTP
 *    servers refuse a non-empty one and silently *replace* an empty one);
 * 3. the trash is deleted only after all renames (by the executor).
 * No name is the target of two renames, and no name that was a target is a
 * source later. That makes "source present and target absent" an exact test
 * of "this step has not run yet", which is what replay relies on.
 */

import { type Manifest, mentionedGuests, savedGuests } from '../manifest.js';
import type { RemoteEntry } from '../remoteFs.js';
import { generationIndex, generationName, TRANSFER, trashName } from './names.js';

/** One rename, relative to the node directory. */
export interface RenameStep {
  from: string;
  to: string;
}

/** A generation kept past `keep` because it holds the newest good copy of some guest. */
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
  protected: ProtectedGeneration[];
  /** Every surviving generation, newest first: old name → final name. */
  final: RenameStep[];
}

/** Input of {@link planRotation}. */
export interface PlanInput {
  /** Listing of the node directory. */
  entries: readonly RemoteEntry[];
  keep: number;
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

/** Generation directories in age order, newest first (`transfer` first when it enters). */
export function ageOrder(entries: readonly RemoteEntry[], withTransfer: boolean): string[] {
  const gens = entries
    .filter((e) => e.type === 'dir' && generationIndex(e.name) !== undefined)
    .map((e) => e.name)
    .sort((a, b) => (generationIndex(a) ?? 0) - (generationIndex(b) ?? 0));
  if (withTransfer) {
    if (!entries.some((e) => e.name === TRANSFER && e.type === 'dir')) {
      throw new RotationPlanError(`${TRANSFER}/ is missing, nothing to rotate in`);
    }
    gens.unshift(TRANSFER);
  }
  return gens;
}

/**
 * Plan a rotation. Retention only drops generations when a new one enters
 * (`withTransfer`): a run that adds nothing only closes gaps.
 *
 * When a generation enters, every generation's manifest is needed: one that
 * saved no guest (a killed run's leftover) never counts toward `keep`, and is
 * removed once every guest it mentions has a newer saved copy.
 */
export function planRotation(input: PlanInput): PlanOutcome {
  const { keep, manifests } = input;
  if (!Number.isInteger(keep) || keep < 1)
    throw new RotationPlanError(`keep must be >= 1, got ${keep}`);
  const order = ageOrder(input.entries, input.withTransfer);

  const kept: string[] = [];
  const dropped: string[] = [];
  const guards = new Map<string, { vmids: number[]; unverified: boolean }>();
  const need = new Set<string>();
  if (input.withTransfer) {
    // Whether a generation counts toward `keep` depends on its manifest (one that saved
    // nothing, e.g. a killed run's leftover, does not): every generation's is needed.
    for (const name of order) if (!manifests.has(name)) need.add(name);
    if (need.size > 0) return { kind: 'need', names: [...need] };
  }
  let counted = 0;
  order.forEach((name, position) => {
    if (!input.withTransfer) {
      kept.push(name);
      return;
    }
    const manifest = manifests.get(name);
    // An unreadable manifest (null) is unknown content: it counts, as any generation did.
    const counts = manifest === null || savedGuests(manifest).size > 0;
    if (counts && counted < keep) {
      counted++;
      kept.push(name);
      return;
    }
    // Past keep, or a generation that saved nothing: it stays only while it holds the
    // newest copy of some guest (for one that saved nothing: unverified copies of the
    // guests it mentions), and it never counts toward keep.
    const uncovered = uncoveredGuests(order, position, manifests, need, counts);
    if (uncovered === undefined) return; // decided once the needed manifests are read
    if (uncovered.length > 0) {
      kept.push(name);
      guards.set(name, { vmids: uncovered, unverified: !counts });
    } else {
      dropped.push(name);
    }
  });
  if (need.size > 0) return { kind: 'need', names: [...need] };

  const taken = new Set(input.entries.map((e) => e.name));
  const removed = dropped.map((name) => {
    const trash = trashName(name, input.runId, taken);
    taken.add(trash);
    return { name, trash };
  });
  const final = kept.map((from, i) => ({ from, to: generationName(i) }));
  const oldIndex = (n: string) => (n === TRANSFER ? -1 : (generationIndex(n) ?? -1));
  const up = final.filter((s) => generationIndex(s.to)! > oldIndex(s.from));
  const down = final.filter((s) => generationIndex(s.to)! < oldIndex(s.from));
  up.sort((a, b) => oldIndex(b.from) - oldIndex(a.from));
  down.sort((a, b) => oldIndex(a.from) - oldIndex(b.from));
  const renames = [...removed.map((r) => ({ from: r.name, to: r.trash })), ...up, ...down];
  checkSteps(input.entries, renames);

  const protectedGens = final
    .filter((s) => guards.has(s.from))
    .map((s) => {
      const { vmids, unverified } = guards.get(s.from)!;
      return {
        name: s.from,
        newName: s.to,
        vmids,
        reason: unverified
          ? `kept, not counted toward keep=${keep}: unverified copies of guest(s) ${vmids.join(', ')} from an interrupted run, which have no newer saved copy`
          : `kept past keep=${keep}: newest good copy of guest(s) ${vmids.join(', ')}`,
      };
    });
  return {
    kind: 'plan',
    plan: { renames, trash: removed.map((r) => r.trash), removed, protected: protectedGens, final },
  };
}

/**
 * Guests saved in `order[position]` with no good copy in any newer generation,
 * or undefined when a manifest still has to be read (added to `need`).
 */
function uncoveredGuests(
  order: readonly string[],
  position: number,
  manifests: ReadonlyMap<string, Manifest | null>,
  need: Set<string>,
  counts: boolean,
): number[] | undefined {
  const name = order[position]!;
  if (!manifests.has(name)) {
    need.add(name);
    return undefined;
  }
  const manifest = manifests.get(name) ?? undefined;
  // A generation that saved something guards its saved guests; one that saved nothing
  // guards every guest it mentions (its archives are unverified, maybe the only copy).
  const uncovered = counts ? savedGuests(manifest) : mentionedGuests(manifest);
  let complete = true;
  for (let q = 0; q < position && uncovered.size > 0; q++) {
    const newer = order[q]!;
    if (!manifests.has(newer)) {
      need.add(newer);
      complete = false;
      continue;
    }
    for (const vmid of savedGuests(manifests.get(newer) ?? undefined)) uncovered.delete(vmid);
  }
  if (!complete && uncovered.size > 0) return undefined;
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
