/**
 * Rotation executor: carries out a {@link RotationPlan} under a journal, and
 * replays a journal left by a rotation that was killed.
 *
 * The executor keeps the set of names present in the node directory (from one
 * listing) and updates it as it goes, so it never lists again. A rename runs
 * only when its source is present and its target absent; the planner
 * guarantees that this is exactly "not yet done" (see plan.ts), so the
 * same loop serves a fresh run and a replay, and a replay never moves a
 * directory onto another one.
 */
import { posix } from 'node:path';
import type { Logger } from '../../log.js';
import type { RemoteEntry, RemoteFs } from '../remoteFs.js';
import { type RotationJournal, serializeJournal } from './journal.js';
import { JOURNAL } from './names.js';
import type { RenameStep, RotationPlan } from './plan.js';

/** The part of RemoteFs that rotation uses. */
export type RotationFs = Pick<
  RemoteFs,
  'list' | 'rename' | 'removeDir' | 'removeFile' | 'readText' | 'writeText'
>;

/** What one execution or replay actually did. */
export interface ExecResult {
  renamed: RenameStep[];
  skipped: RenameStep[];
  trashRemoved: string[];
}

/**
 * Run a plan: journal first, then the renames, then drop the journal, then
 * delete the trash. The trash goes after the journal on purpose: while the
 * journal exists the trash names prove which renames already ran; once it is
 * gone, a leftover trash directory can only be debris of a finished rotation.
 */
export async function executePlan(
  fs: RotationFs,
  nodeDir: string,
  plan: RotationPlan,
  o: { runId: string; present: Set<string>; logger: Logger; now: Date },
): Promise<ExecResult> {
  if (plan.renames.length === 0) return { renamed: [], skipped: [], trashRemoved: [] };
  const journal: RotationJournal = {
    version: 1,
    runId: o.runId,
    createdAt: o.now.toISOString(),
    renames: plan.renames,
    trash: plan.trash,
  };
  await fs.writeText(posix.join(nodeDir, JOURNAL), serializeJournal(journal));
  o.present.add(JOURNAL);
  return runJournal(fs, nodeDir, journal, o.present, o.logger);
}

/** Finish a journal found at the start of a run (same loop as a fresh run). */
export function replayJournal(
  fs: RotationFs,
  nodeDir: string,
  journal: RotationJournal,
  present: Set<string>,
  logger: Logger,
): Promise<ExecResult> {
  logger.warn('finishing an interrupted rotation', { nodeDir, runId: journal.runId });
  return runJournal(fs, nodeDir, journal, present, logger);
}

async function runJournal(
  fs: RotationFs,
  nodeDir: string,
  journal: RotationJournal,
  present: Set<string>,
  logger: Logger,
): Promise<ExecResult> {
  const result: ExecResult = { renamed: [], skipped: [], trashRemoved: [] };
  for (const step of journal.renames) {
    if (present.has(step.from) && !present.has(step.to)) {
      await fs.rename(posix.join(nodeDir, step.from), posix.join(nodeDir, step.to));
      present.delete(step.from);
      present.add(step.to);
      result.renamed.push(step);
      logger.debug('rotation rename', { nodeDir, from: step.from, to: step.to });
    } else {
      result.skipped.push(step);
    }
  }
  await fs.removeFile(posix.join(nodeDir, JOURNAL));
  present.delete(JOURNAL);
  for (const trash of journal.trash) {
    if (!present.has(trash)) continue;
    await fs.removeDir(posix.join(nodeDir, trash));
    present.delete(trash);
    result.trashRemoved.push(trash);
  }
  return result;
}

/** The listing after renames, without re-listing: names move, types stay. */
export function applyRenames(
  entries: readonly RemoteEntry[],
  renames: readonly RenameStep[],
): RemoteEntry[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const { from, to } of renames) {
    const e = byName.get(from);
    if (!e || byName.has(to)) continue;
    byName.delete(from);
    byName.set(to, { ...e, name: to });
  }
  return [...byName.values()];
}
