/**
 * One guest of a node run: start vzdump into the staging storage, follow the
 * task, find the archive it wrote, verify the NAS copy, and only then delete
 * the node copy. Every failure becomes a `failed` result with its reason and
 * the node copy is kept — the invariant "a node archive is deleted only after
 * its NAS copy was verified" lives here.
 */

import { errorMessage } from '../errors.js';
import type { VerifyResult } from '../ftp/verify.js';
import type { Logger } from '../log.js';
import { type PveBackupVolume, taskOutcome } from '../pveApi/index.js';
import type { BackupMode, Compressor } from '../vocabulary.js';
import { archiveNameFromLog, findNewArchive, logNameFor, volumeFileName } from './archive.js';
import { checksumNameFor, parseChecksumFile } from './checksumFile.js';
import type { NodeApi, NodeNas } from './nodeNas.js';
import type { TaskEndHint } from './taskPacer.js';
import { type WatchTaskOptions, watchTask } from './taskWatcher.js';
import type { GuestResult } from './types.js';

export interface GuestJob {
  node: string;
  vmid: number;
  type: GuestResult['type'];
  name?: string;
  state?: string;
  storage: string;
  mode: BackupMode;
  compress: Compressor;
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
  /**
   * Takes the following of the node copy's delete task (PVE's `imgdel`) off the guest's path:
   * the DELETE is sent before runGuest returns, and the promise given here settles the
   * result's `nodeCopy` (and a warning when the delete failed) once PVE's task ends. The node
   * runner starts the next vzdump meanwhile and awaits these before it reports. Without it,
   * runGuest waits for the task itself.
   */
  deferDeleteWatch?: (settling: Promise<void>) => void;
  /** When the node's vzdump tasks end, learned from the earlier ones (taskPacer.ts). */
  endHint?: TaskEndHint;
  /** Poll pacing (tests and bench shorten it). */
  watch?: Pick<WatchTaskOptions, 'firstPollMs' | 'intervalMs' | 'statusEvery' | 'sleep'>;
  now?: () => number;
}

/** A per-guest failure: the phase that hit it says why, runGuest turns it into the result. */
class GuestFailure extends Error {}

/** The running state of one guest's backup, shared by its phases (and by leftovers.ts). */
export interface GuestRun {
  job: GuestJob;
  ctx: GuestRunContext;
  log: Logger;
  result: GuestResult;
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
  const run: GuestRun = { job, ctx, log, result };
  try {
    const before = await listStaging(run);
    const upid = await startDump(run);
    const task = await followTask(run, upid);
    const archive = await locateArchive(run, before, task);
    if (await verifyOnNas(run, archive)) await deleteNodeCopy(run, archive);
  } catch (error) {
    if (!(error instanceof GuestFailure)) throw error;
    result.outcome = 'failed';
    result.error = error.message;
  }
  const t1 = now();
  result.finishedAt = new Date(t1).toISOString();
  result.durationMs = t1 - t0;
  log.info(`guest ${job.vmid}: ${result.outcome}${result.error ? ` (${result.error})` : ''}`);
  return result;
}

/**
 * What the storage held before: lets us tell this task's archive apart when
 * the log does not name it. Optional: the log line usually suffices.
 */
async function listStaging({ job, ctx, log }: GuestRun): Promise<PveBackupVolume[] | undefined> {
  try {
    return await ctx.api.backupContent(job.node, job.storage);
  } catch (error) {
    log.warn('could not list the staging storage before the backup', {
      error: errorMessage(error),
    });
    return undefined;
  }
}

/** POST vzdump; returns the task's UPID. */
async function startDump({ job, ctx, log, result }: GuestRun): Promise<string> {
  let started: Awaited<ReturnType<NodeApi['startVzdump']>>;
  try {
    started = await ctx.api.startVzdump(job.node, {
      vmid: job.vmid,
      storage: job.storage,
      mode: job.mode,
      compress: job.compress,
      // Never let vzdump prune: the staging copy is ours until verified on the NAS.
      remove: 0,
    });
  } catch (error) {
    throw new GuestFailure(`could not start vzdump: ${errorMessage(error)}`);
  }
  if (started.upid === undefined) {
    throw new GuestFailure(`vzdump started nothing (PVE answered '${started.answer}')`);
  }
  result.upid = started.upid;
  log.info(`guest ${job.vmid}: vzdump task started`, { upid: started.upid });
  return started.upid;
}

interface TaskEnd {
  lines: string[];
  exitstatus: string;
  outcome: ReturnType<typeof taskOutcome>;
}

/** Follow the vzdump task to its end; its WARN lines become the guest's warnings. */
async function followTask({ job, ctx, log, result }: GuestRun, upid: string): Promise<TaskEnd> {
  let watched: Awaited<ReturnType<typeof watchTask>>;
  try {
    watched = await watchTask(ctx.api, {
      node: job.node,
      upid,
      logger: log,
      ...(ctx.forceSignal ? { stopSignal: ctx.forceSignal } : {}),
      ...(ctx.endHint ? { endHint: ctx.endHint } : {}),
      onProgress: (line) => ctx.onProgress?.(line),
      ...ctx.watch,
    });
  } catch (error) {
    throw new GuestFailure(`lost track of the vzdump task: ${errorMessage(error)}`);
  }
  const { lines, exitstatus } = watched;
  result.warnings.push(...lines.filter((l) => /^WARN/.test(l)).map((l) => `task: ${l}`));
  return { lines, exitstatus, outcome: taskOutcome(exitstatus, lines) };
}

/**
 * The archive this task wrote. Looked for even after a failed task: a
 * backup-end hook failure leaves a complete archive on the node, which the
 * report must name as kept.
 */
async function locateArchive(
  { job, ctx, result }: GuestRun,
  before: PveBackupVolume[] | undefined,
  task: TaskEnd,
): Promise<PveBackupVolume> {
  const archiveName = archiveNameFromLog(task.lines);
  let archive: PveBackupVolume | undefined;
  try {
    const after = await ctx.api.backupContent(job.node, job.storage);
    archive = findNewArchive(
      { vmid: job.vmid, type: job.type, ...(archiveName ? { logName: archiveName } : {}) },
      before,
      after,
    );
  } catch (error) {
    if (task.outcome.ok) {
      throw new GuestFailure(`could not list the staging storage: ${errorMessage(error)}`);
    }
  }
  if (archive) {
    result.archive = {
      name: volumeFileName(archive.volid),
      size: archive.size,
      volid: archive.volid,
    };
    result.nodeCopy = 'kept';
  }
  if (!task.outcome.ok) {
    const why = task.outcome.errors.length > 0 ? task.outcome.errors.join('; ') : task.exitstatus;
    throw new GuestFailure(`vzdump failed: ${why}`);
  }
  if (!archive) {
    throw new GuestFailure(
      archiveName
        ? `archive ${archiveName} not found on storage ${job.storage}`
        : `no new archive of guest ${job.vmid} found on storage ${job.storage}`,
    );
  }
  return archive;
}

/**
 * Check the NAS copy (archive with the API's size, the .log when it came) and
 * record the guest as saved. Returns whether the node copy may now be deleted.
 */
async function verifyOnNas({ ctx, result }: GuestRun, archive: PveBackupVolume): Promise<boolean> {
  const name = volumeFileName(archive.volid);
  const logName = logNameFor(name);
  let checks: VerifyResult[];
  try {
    checks = await ctx.nas.verify([
      { name, size: archive.size },
      ...(logName ? [{ name: logName }] : []),
    ]);
  } catch (error) {
    throw new GuestFailure(`could not verify the NAS copy: ${errorMessage(error)}`);
  }
  const archiveCheck = checks.find((c) => c.name === name);
  if (!archiveCheck?.ok) {
    throw new GuestFailure(
      `NAS copy not verified: ${archiveCheck?.problem ?? 'archive missing in transfer/'}`,
    );
  }
  const checksum = await nodeChecksum(ctx, name, result);
  result.files.push({
    name,
    size: archive.size,
    ...(checksum ? { sha256: checksum.sha256 } : {}),
  });
  if (checksum) result.files.push(checksum.file);
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
    return false;
  }
  return true;
}

/**
 * The sha256 the node computed (NAME.sha256 beside the archive in transfer/),
 * recorded in the manifest so `verify --deep` can prove the NAS holds the bytes
 * vzdump wrote. A missing or unusable file is a warning (an older hook), never
 * a failure: the size check already passed.
 */
async function nodeChecksum(
  ctx: GuestRunContext,
  archiveName: string,
  result: GuestResult,
): Promise<{ sha256: string; file: { name: string; size: number } } | undefined> {
  const checksumName = checksumNameFor(archiveName);
  let text: string | undefined;
  try {
    text = await ctx.nas.readTransferText(checksumName);
  } catch (error) {
    result.warnings.push(`${checksumName} could not be read: ${errorMessage(error)}`);
    return undefined;
  }
  if (text === undefined) {
    result.warnings.push(`${checksumName} did not arrive (a hook older than 0.2 sends none)`);
    return undefined;
  }
  const parsed = parseChecksumFile(text, archiveName);
  if ('problem' in parsed) {
    result.warnings.push(`${checksumName} ignored: ${parsed.problem}`);
    return undefined;
  }
  return { sha256: parsed.sha256, file: { name: checksumName, size: Buffer.byteLength(text) } };
}

/** Verified and recorded: now (and only now) the node copy may go. Also used for earlier runs' leftovers. */
export async function deleteNodeCopy(
  { job, ctx, log, result }: GuestRun,
  archive: PveBackupVolume,
): Promise<void> {
  const failed = (error: unknown) => {
    result.warnings.push(`node copy ${archive.volid} could not be deleted: ${errorMessage(error)}`);
  };
  let upid: string | undefined;
  try {
    upid = (await ctx.api.deleteVolume(job.node, job.storage, archive.volid)).upid;
  } catch (error) {
    failed(error);
    return;
  }
  if (!upid) {
    // Older PVE deletes in the request itself.
    result.nodeCopy = 'deleted';
    return;
  }
  const settling = followDelete(ctx, job, log, upid).then(() => {
    result.nodeCopy = 'deleted';
  }, failed);
  if (ctx.deferDeleteWatch) ctx.deferDeleteWatch(settling);
  else await settling;
}

/** Follow PVE's imgdel task to its end; throws with its error when it failed. */
async function followDelete(
  ctx: GuestRunContext,
  job: GuestJob,
  log: Logger,
  upid: string,
): Promise<void> {
  const watched = await watchTask(ctx.api, {
    node: job.node,
    upid,
    logger: log,
    // imgdel tasks take milliseconds: look early, and at the status first.
    firstPollMs: 50,
    statusEvery: 1,
    ...ctx.watch,
  });
  const del = taskOutcome(watched.exitstatus, watched.lines);
  if (!del.ok) throw new Error(del.errors.join('; ') || watched.exitstatus);
}
