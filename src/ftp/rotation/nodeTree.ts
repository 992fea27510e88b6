/**
 * The two rotation entry points a node run calls, with the lock held:
 * {@link prepareNodeTree} at the start (heal whatever a killed run left) and
 * {@link finishNodeRun} at the end (manifest, then rotate).
 */
import { posix } from 'node:path';
import type { Logger } from '../../log.js';
import { TEMP_SUFFIX } from '../layout.js';
import {
  incompleteManifest,
  MANIFEST_NAME,
  type Manifest,
  serializeManifest,
  tryParseManifest,
} from '../manifest.js';
import type { RemoteEntry } from '../remoteFs.js';
import { applyRenames, executePlan, type RotationFs, replayJournal } from './exec.js';
import { parseJournal } from './journal.js';
import { isTrashName, JOURNAL, TRANSFER } from './names.js';

import {
  type ProtectedGeneration,
  planRotation,
  type RenameStep,
  type RetentionCounts,
} from './plan.js';

/** What a call did (or, with dryRun, would do) to a node's tree. */
export interface RotationReport {
  nodeDir: string;
  dryRun: boolean;
  /**
   * rotated: a generation entered or gaps were closed; unchanged: nothing to do;
   * nothing-saved: the run saved no guest, its transfer/ was removed;
   * not-rotated: rotate=false, the manifest was written and transfer/ left in place.
   */
  outcome: 'rotated' | 'unchanged' | 'nothing-saved' | 'not-rotated';
  /** Human-readable repairs of a killed run: journal finished, trash removed, transfer adopted. */
  repairs: string[];
  /** Renames done (or planned), in order, relative to nodeDir; includes moves to trash. */
  renames: RenameStep[];
  /** Generations removed by retention (their names before the rotation). */
  removed: string[];
  /** Generations promoted into an older tier (`daily.10` → `weekly.0`), names before → after. */
  promoted: RenameStep[];
  /** Generations kept past `keep`, and why. */
  protected: ProtectedGeneration[];
}

interface Common extends RetentionCounts {
  logger: Logger;
  dryRun?: boolean;
  /** Used in trash names and an adopted generation's manifest; default derived from the time. */
  runId?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * At the start of a node run (lock held): finish or repair an interrupted
 * rotation, delete leftover trash, turn a leftover transfer/ into its own
 * generation (writing an `incomplete` manifest when it has none) and close
 * gaps in the numbering. With dryRun it only reads and reports the plan.
 */
export async function prepareNodeTree(
  fs: RotationFs,
  nodeDir: string,
  o: Common,
): Promise<RotationReport> {
  const now = o.now?.() ?? new Date();
  const runId = o.runId ?? `prepare-${now.toISOString()}`;
  const report = emptyReport(nodeDir, o.dryRun ?? false);
  const listed = await fs.list(nodeDir);
  if (listed === undefined) return report;
  const entries = await heal(fs, nodeDir, listed, report, o);

  const manifests = new Map<string, Manifest | null>();
  let hasTransfer = entries.some((e) => e.name === TRANSFER && e.type === 'dir');
  if (hasTransfer) {
    const dir = posix.join(nodeDir, TRANSFER);
    const inside = await healTransfer(fs, dir, report, o);
    if (inside.length === 0) {
      // Made by a run stopped before its first upload: nothing to adopt (the run makes a
      // fresh one before its first guest).
      if (!o.dryRun) await fs.removeDir(dir);
      report.repairs.push(`removed an empty ${TRANSFER}/ left by an interrupted run`);
      hasTransfer = false;
    } else {
      const hasManifest = inside.some((e) => e.name === MANIFEST_NAME && e.type === 'file');
      const path = posix.join(dir, MANIFEST_NAME);
      let manifest = hasManifest ? await readManifest(fs, path, o.logger) : null;
      if (!manifest) {
        manifest = incompleteManifest({
          runId,
          node: posix.basename(nodeDir),
          at: now.toISOString(),
          files: inside.filter((e) => e.type === 'file' && e.name !== MANIFEST_NAME),
        });
        if (!o.dryRun) await fs.writeText(path, serializeManifest(manifest));
        report.repairs.push(
          `${TRANSFER}/ left by an interrupted run adopted as incomplete generation`,
        );
      } else {
        report.repairs.push(`${TRANSFER}/ left by an earlier run (run ${manifest.runId}) adopted`);
      }
      manifests.set(TRANSFER, manifest);
    }
  }
  await rotate(fs, nodeDir, entries, manifests, hasTransfer, report, { ...o, runId, now });
  return report;
}

/**
 * At the end of a node run: write the manifest into transfer/ and rotate when
 * the run saved at least one guest and `rotate` is set; remove transfer/ when
 * it saved nothing (the generations stay as they were).
 */
export async function finishNodeRun(
  fs: RotationFs,
  nodeDir: string,
  manifest: Manifest,
  o: Omit<Common, 'dryRun'> & { rotate: boolean },
): Promise<RotationReport> {
  const report = emptyReport(nodeDir, false);
  const transfer = posix.join(nodeDir, TRANSFER);
  if (!manifest.guests.some((g) => g.status === 'saved')) {
    await fs.removeDir(transfer);
    report.outcome = 'nothing-saved';
    o.logger.info('no guest saved: generations left as they were', { nodeDir });
    return report;
  }
  await fs.writeText(posix.join(transfer, MANIFEST_NAME), serializeManifest(manifest));
  if (!o.rotate) {
    report.outcome = 'not-rotated';
    return report;
  }
  const listed = (await fs.list(nodeDir)) ?? [];
  // prepareNodeTree normally healed already; this only matters when it was not called.
  const entries = await heal(fs, nodeDir, listed, report, o);
  const manifests = new Map<string, Manifest | null>([[TRANSFER, manifest]]);
  const now = o.now?.() ?? new Date();
  await rotate(fs, nodeDir, entries, manifests, true, report, { ...o, runId: manifest.runId, now });
  return report;
}

function emptyReport(nodeDir: string, dryRun: boolean): RotationReport {
  return {
    nodeDir,
    dryRun,
    outcome: 'unchanged',
    repairs: [],
    renames: [],
    removed: [],
    promoted: [],
    protected: [],
  };
}

/** Finish a journal, drop an unreadable one, delete leftover trash; returns the listing after. */
async function heal(
  fs: RotationFs,
  nodeDir: string,
  listed: RemoteEntry[],
  report: RotationReport,
  o: { logger: Logger; dryRun?: boolean },
): Promise<RemoteEntry[]> {
  let entries = listed;
  const present = new Set(entries.map((e) => e.name));
  if (present.has(JOURNAL)) {
    const journal = parseJournal((await fs.readText(posix.join(nodeDir, JOURNAL))) ?? '');
    if (journal && !o.dryRun) {
      const done = await replayJournal(fs, nodeDir, journal, present, o.logger);
      report.renames.push(...done.renamed);
      // Replay already deleted the trash it made: keep only what is still there.
      entries = applyRenames(entries, done.renamed).filter((e) => present.has(e.name));
      report.repairs.push(`finished interrupted rotation of run ${journal.runId}`);
    } else if (journal) {
      // Same rule as replay, so the report lists only the renames still to run.
      const pending = journal.renames.filter((s) => {
        const runs = present.has(s.from) && !present.has(s.to);
        if (runs) {
          present.delete(s.from);
          present.add(s.to);
        }
        return runs;
      });
      entries = applyRenames(entries, pending);
      report.renames.push(...pending);
      report.repairs.push(`would finish interrupted rotation of run ${journal.runId}`);
    } else {
      // Unparseable = its write was cut short, before any rename: nothing to finish.
      if (!o.dryRun) await fs.removeFile(posix.join(nodeDir, JOURNAL));
      report.repairs.push('removed an unreadable rotation journal (no rename had run)');
    }
    entries = entries.filter((e) => e.name !== JOURNAL);
  }
  // The session writes files aside first (layout.ts TEMP_SUFFIX) and the lock dates the NAS
  // clock with a probe of that suffix: a write cut short leaves such a name behind, which is
  // ours. The node dir's are seen here, transfer/'s by healTransfer. Generations never hold
  // one: what the tool writes into a generation is written aside in the node dir (ftpNodeNas).
  // (The lock's staging and released directories carry the suffix too: lock.ts.)
  for (const e of entries.filter((x) => x.name.endsWith(TEMP_SUFFIX))) {
    const path = posix.join(nodeDir, e.name);
    if (!o.dryRun) await (e.type === 'dir' ? fs.removeDir(path) : fs.removeFile(path));
    report.repairs.push(`removed leftover ${e.name}`);
  }
  entries = entries.filter((e) => !e.name.endsWith(TEMP_SUFFIX));
  for (const e of entries.filter((x) => isTrashName(x.name))) {
    if (!o.dryRun) await fs.removeDir(posix.join(nodeDir, e.name));
    report.repairs.push(`removed leftover ${e.name}`);
  }
  return entries.filter((e) => !isTrashName(e.name));
}

/** Remove our temp names from transfer/ (a manifest record cut short); returns what else is there. */
async function healTransfer(
  fs: RotationFs,
  dir: string,
  report: RotationReport,
  o: { dryRun?: boolean },
): Promise<RemoteEntry[]> {
  const inside = (await fs.list(dir)) ?? [];
  for (const e of inside.filter((x) => x.type === 'file' && x.name.endsWith(TEMP_SUFFIX))) {
    if (!o.dryRun) await fs.removeFile(posix.join(dir, e.name));
    report.repairs.push(`removed leftover ${TRANSFER}/${e.name}`);
  }
  return inside.filter((e) => !(e.type === 'file' && e.name.endsWith(TEMP_SUFFIX)));
}

async function readManifest(
  fs: RotationFs,
  path: string,
  logger: Logger,
): Promise<Manifest | null> {
  const text = await fs.readText(path);
  if (text === undefined) return null;
  const parsed = tryParseManifest(text);
  if (parsed.ok) return parsed.manifest;
  logger.warn('ignoring unreadable manifest', { path, problem: parsed.problem });
  return null;
}

/** Plan (reading the manifests the planner asks for), then execute unless dry-run. */
async function rotate(
  fs: RotationFs,
  nodeDir: string,
  entries: RemoteEntry[],
  manifests: Map<string, Manifest | null>,
  withTransfer: boolean,
  report: RotationReport,
  o: RetentionCounts & { logger: Logger; dryRun?: boolean; runId: string; now: Date },
): Promise<void> {
  // Each round reads at least one new manifest, so this ends within entries.length rounds.
  for (let round = 0; round <= entries.length; round++) {
    const outcome = planRotation({
      entries,
      keep: o.keep,
      weekly: o.weekly,
      monthly: o.monthly,
      withTransfer,
      manifests,
      runId: o.runId,
    });
    if (outcome.kind === 'need') {
      for (const name of outcome.names) {
        manifests.set(
          name,
          await readManifest(fs, posix.join(nodeDir, name, MANIFEST_NAME), o.logger),
        );
      }
      continue;
    }
    const { plan } = outcome;
    report.removed = plan.removed.map((r) => r.name);
    report.promoted = plan.promoted;
    for (const p of plan.promoted) o.logger.info('generation promoted', { nodeDir, ...p });
    report.protected = plan.protected;
    for (const p of plan.protected) o.logger.warn('generation kept past keep', { nodeDir, ...p });
    if (plan.renames.length > 0) report.outcome = 'rotated';
    if (o.dryRun) {
      report.renames.push(...plan.renames);
      return;
    }
    const present = new Set(entries.map((e) => e.name));
    const done = await executePlan(fs, nodeDir, plan, { ...o, present });
    report.renames.push(...done.renamed);
    if (plan.renames.length > 0) {
      o.logger.info('rotated generations', {
        nodeDir,
        generations: plan.final.length,
        removed: report.removed,
      });
    }
    return;
  }
  throw new Error(`rotation planning did not settle for ${nodeDir}`);
}
