/**
 * One guest of a node run: start vzdump into the staging storage, follow the
 * task, find the archive it wrote, verify the NAS copy, and only then delete
 * the node copy. Every failure becomes a `failed` result with its reason and
 * the node copy is kept — the invariant "a node archive is deleted only after
 * its NAS copy was verified" lives here.
 */

import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type PveBackupVolume, taskOutcome } from '../pveApi/index.js';
import { archiveNameFromLog, findNewArchive, logNameFor, volumeFileName } from './archive.js';
import type { NodeApi, NodeNas } from './nodePorts.js';
import { type WatchTaskOptions, watchTask } from './taskWatcher.js';
import type { GuestResult } from './types.js';

export interface GuestJob {
  node: string;
  vmid: number;
  type: GuestResult['type'];
  name?: string;
  state?: string;
  storage: string;
  mode: 'snapshot' | 'suspend' | 'stop';
  compress: '0' | 'gzip' | 'lzo' | 'zstd';
}

export interface GuestRunContext {
  api: NodeApi;
  nas: NodeNas;
  logger: Logger;
  /** Second interrupt: stop the running vzdump through the API. */
  forceSignal?: AbortSignal;
  onProgress?: (line: string) => void;
  /**
   * Called once the NAS copy is verified, before the node copy is deleted: the
   * node runner records the guest as saved on the NAS there, so a run killed
   * after the delete still leaves a good copy that rotation protects. When it
   * throws, the node copy is kept.
   */
  beforeDelete?: (saved: GuestResult) => Promise<void>;
  /** Poll pacing (tests and bench shorten it). */
  watch?: Pick<WatchTaskOptions, 'firstPollMs' | 'intervalMs' | 'statusEvery' | 'sleep'>;
  now?: () => number;
}

/** Back up one guest; never throws for a per-guest problem. */
export async function runGuest(job: GuestJob, ctx: GuestRunContext): Promise<GuestResult> {
  const now = ctx.now ?? Date.now;
  const log = ctx.logger.child({ node: job.node, vmid: job.vmid });
  const t0 = now();
  const result: GuestResult = {
    vmid: job.vmid,
    type: job.type,
    ...(job.name !== undefined ? { name: job.name } : {}),
    ...(job.state !== undefined ? { state: job.state } : {}),
    outcome: 'failed',
    warnings: [],
    files: [],
    nodeCopy: 'none',
    startedAt: new Date(t0).toISOString(),
  };
  const done = (): GuestResult => {
    const t1 = now();
    result.finishedAt = new Date(t1).toISOString();
    result.durationMs = t1 - t0;
    log.info(`guest ${job.vmid}: ${result.outcome}${result.error ? ` (${result.error})` : ''}`);
    return result;
  };
  const fail = (error: string): GuestResult => {
    result.outcome = 'failed';
    result.error = error;
    return done();
  };

  // What the storage held before: lets us tell this task's archive apart when
  // the log does not name it. Optional: the log line usually suffices.
  let before: PveBackupVolume[] | undefined;
  try {
    before = await ctx.api.backupContent(job.node, job.storage);
  } catch (error) {
    log.warn('could not list the staging storage before the backup', {
      error: errorMessage(error),
    });
  }

  let upid: string;
  try {
    const started = await ctx.api.startVzdump(job.node, {
      vmid: job.vmid,
      storage: job.storage,
      mode: job.mode,
      compress: job.compress,
      // Never let vzdump prune: the staging copy is ours until verified on the NAS.
      remove: 0,
    });
    if (started.upid === undefined) {
      return fail(`vzdump started nothing (PVE answered '${started.answer}')`);
    }
    upid = started.upid;
    result.upid = upid;
  } catch (error) {
    return fail(`could not start vzdump: ${errorMessage(error)}`);
  }
  log.info(`guest ${job.vmid}: vzdump task started`, { upid });

  let lines: string[];
  let exitstatus: string;
  try {
    const watched = await watchTask(ctx.api, {
      node: job.node,
      upid,
      logger: log,
      ...(ctx.forceSignal ? { stopSignal: ctx.forceSignal } : {}),
      onProgress: (line) => ctx.onProgress?.(line),
      ...ctx.watch,
    });
    lines = watched.lines;
    exitstatus = watched.exitstatus;
  } catch (error) {
    return fail(`lost track of the vzdump task: ${errorMessage(error)}`);
  }
  const outcome = taskOutcome(exitstatus, lines);
  const warnLines = lines.filter((l) => /^WARN/.test(l));
  result.warnings.push(...warnLines.map((l) => `task: ${l}`));

  // Find the archive even after a failed task: a backup-end hook failure leaves
  // a complete archive on the node, which we must report as kept.
  const archiveName = archiveNameFromLog(lines);
  let archive: PveBackupVolume | undefined;
  try {
    const after = await ctx.api.backupContent(job.node, job.storage);
    archive = findNewArchive(
      { vmid: job.vmid, type: job.type, ...(archiveName ? { logName: archiveName } : {}) },
      before,
      after,
    );
  } catch (error) {
    if (outcome.ok) return fail(`could not list the staging storage: ${errorMessage(error)}`);
  }
  if (archive) {
    result.archive = {
      name: volumeFileName(archive.volid),
      size: archive.size,
      volid: archive.volid,
    };
    result.nodeCopy = 'kept';
  }

  if (!outcome.ok) {
    const why = outcome.errors.length > 0 ? outcome.errors.join('; ') : exitstatus;
    return fail(`vzdump failed: ${why}`);
  }
  if (!archive || !result.archive) {
    return fail(
      archiveName
        ? `archive ${archiveName} not found on storage ${job.storage}`
        : `no new archive of guest ${job.vmid} found on storage ${job.storage}`,
    );
  }

  const logName = logNameFor(result.archive.name);
  let checks: Awaited<ReturnType<NodeNas['verify']>>;
  try {
    checks = await ctx.nas.verify([
      { name: result.archive.name, size: archive.size },
      ...(logName ? [{ name: logName }] : []),
    ]);
  } catch (error) {
    return fail(`could not verify the NAS copy: ${errorMessage(error)}`);
  }
  const archiveCheck = checks.find((c) => c.name === result.archive?.name);
  if (!archiveCheck?.ok) {
    return fail(
      `NAS copy not verified: ${archiveCheck?.problem ?? 'archive missing in transfer/'}`,
    );
  }
  result.files.push({ name: result.archive.name, size: archive.size });
  const logCheck = logName ? checks.find((c) => c.name === logName) : undefined;
  if (logName && logCheck?.ok) {
    result.files.push({
      name: logName,
      ...(logCheck.actualSize !== undefined ? { size: logCheck.actualSize } : {}),
    });
  } else if (logName) {
    // The archive is what matters; a missing .log is reported, not a failure.
    result.warnings.push(`${logName} did not arrive on the NAS: ${logCheck?.problem ?? 'missing'}`);
  }
  result.outcome = 'saved';
  try {
    await ctx.beforeDelete?.(result);
  } catch (error) {
    result.warnings.push(
      `node copy ${archive.volid} kept: the NAS copy could not be recorded as saved: ${errorMessage(error)}`,
    );
    return done();
  }

  // Verified: now (and only now) the node copy may go.
  try {
    const deleted = await ctx.api.deleteVolume(job.node, job.storage, archive.volid);
    if (deleted.upid) {
      const watched = await watchTask(ctx.api, {
        node: job.node,
        upid: deleted.upid,
        logger: log,
        // imgdel tasks take milliseconds: look early, and at the status first.
        firstPollMs: 50,
        statusEvery: 1,
        ...ctx.watch,
      });
      const del = taskOutcome(watched.exitstatus, watched.lines);
      if (!del.ok) throw new Error(del.errors.join('; ') || watched.exitstatus);
    }
    result.nodeCopy = 'deleted';
  } catch (error) {
    result.warnings.push(`node copy ${archive.volid} could not be deleted: ${errorMessage(error)}`);
  }
  return done();
}
