/**
 * `restore` without the printing: the five steps of docs/contract.md#restore.
 * Find the copy (NAS manifests), resolve and check the target (API GETs),
 * make sure the staging storage holds the archive (printing the fetch command
 * and waiting when it does not), restore through the API and follow the
 * task, then delete the staging copy — kept when the restore failed, or with
 * `--keep-archive`. A dry run stops before the first write.
 */
import type { Config } from '../config/index.js';
import { AppError, ExitCode, errorMessage, InterruptedError, PreflightError } from '../errors.js';
import { nodeLayout } from '../ftp/layout.js';
import { type NasSession, openNasSession } from '../ftp/session.js';
import type { Logger } from '../log.js';
import { watchTask } from '../orchestrator/taskWatcher.js';
import {
  PveAuthError,
  type PveClient,
  type PveClientOptions,
  PveTlsError,
  taskOutcome,
} from '../pveApi/index.js';
import { findSavedCopy, NoCopyError, type SavedCopy } from './findCopy.js';
import { fetchCommand, stagingState, waitForStaging } from './staging.js';
import { type RestoreTarget, resolveTarget } from './target.js';

export interface RestoreRequest {
  /** The node tree on the NAS the copy comes from. */
  node: string;
  vmid: number;
  from?: string;
  toNode: string;
  toVmid: number;
  /** `--storage`: where the restored disks go. */
  storage?: string;
  force: boolean;
  keepArchive: boolean;
  timeoutMs: number;
  dryRun: boolean;
}

export interface RestoreReport {
  version: 1;
  dryRun: boolean;
  source: SavedCopy;
  target: RestoreTarget & { storage?: string };
  staging: {
    storage: string;
    volid: string;
    /** Whether the archive was on the staging storage when the restore looked. */
    present: boolean;
    /** The command to run on the target node, when it was not. */
    fetchCommand?: string;
    waitedSeconds?: number;
    /** What became of it: deleted after success, kept (failure, --keep-archive, dry run). */
    copy: 'deleted' | 'kept' | 'not fetched';
  };
  task?: { upid: string; exitstatus: string; ok: boolean; errors: string[] };
  warnings: string[];
  exitCode: number;
}

export interface RunRestoreOptions {
  config: Config;
  request: RestoreRequest;
  logger: Logger;
  /** Ctrl-C: stop waiting for the archive (nothing changed). */
  signal: AbortSignal;
  /** SIGTERM / second Ctrl-C: stop following the restore task (it goes on on the node). */
  forceSignal: AbortSignal;
  /** The fetch command, printed on a line of its own before the wait. */
  onFetchCommand: (command: string) => void;
  onWaiting: (text: string) => void;
  onProgress?: (line: string) => void;
  onSecret?: (secret: string) => void;
  /** Test knobs. */
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
  pollMs?: number;
  openSession?: (ftp: Config['ftp'], logger: Logger, signal?: AbortSignal) => Promise<NasSession>;
}

async function findCopy(o: RunRestoreOptions): Promise<SavedCopy> {
  const { ftp } = o.config;
  const open = o.openSession ?? openNasSession;
  let fs: NasSession;
  try {
    fs = await open(ftp, o.logger, o.signal);
  } catch (error) {
    throw new PreflightError(`cannot reach the NAS: ${errorMessage(error)}`, { cause: error });
  }
  try {
    return await findSavedCopy(fs, {
      nodeDir: nodeLayout(ftp.dir, o.request.node).nodeDir,
      node: o.request.node,
      vmid: o.request.vmid,
      ...(o.request.from !== undefined ? { from: o.request.from } : {}),
    });
  } catch (error) {
    if (error instanceof NoCopyError) throw new AppError(error.message, ExitCode.partialFailure);
    throw error;
  } finally {
    fs.close();
  }
}

/** Before anything is written, an API failure means nothing could be done (exit 3), not a bug. */
async function beforeWriting<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (
      error instanceof AppError ||
      error instanceof PveAuthError ||
      error instanceof PveTlsError
    ) {
      throw error;
    }
    throw new PreflightError(`${what}: ${errorMessage(error)}`, { cause: error });
  }
}

export async function runRestore(o: RunRestoreOptions): Promise<RestoreReport> {
  const r = o.request;
  const source = await beforeWriting('cannot read the NAS', () => findCopy(o));
  o.logger.info(
    `copy of guest ${r.vmid}: ${source.generation}/${source.file} of node ${source.node} (${source.size} bytes, saved ${source.savedAt})`,
  );
  const { target, client } = await beforeWriting(`cannot check the target node ${r.toNode}`, () =>
    resolveTarget(
      o.config,
      { toNode: r.toNode, toVmid: r.toVmid, archiveType: source.type, force: r.force },
      {
        logger: o.logger,
        signal: o.signal,
        ...(o.onSecret ? { onSecret: o.onSecret } : {}),
        ...(o.client ? { client: o.client } : {}),
      },
    ),
  );
  try {
    return await restoreOnto(o, client, source, target);
  } finally {
    await client.close().catch(() => {});
  }
}

async function restoreOnto(
  o: RunRestoreOptions,
  client: PveClient,
  source: SavedCopy,
  target: RestoreTarget,
): Promise<RestoreReport> {
  const r = o.request;
  const storage = o.config.backup.storage;
  const volid = `${storage}:backup/${source.file}`;
  const report: RestoreReport = {
    version: 1,
    dryRun: r.dryRun,
    source,
    target: { ...target, ...(r.storage !== undefined ? { storage: r.storage } : {}) },
    staging: { storage, volid, present: false, copy: 'not fetched' },
    warnings: [],
    exitCode: ExitCode.ok,
  };
  const where = { node: target.node, storage, volid, size: source.size };
  report.staging.present =
    (await beforeWriting(`cannot list storage ${storage} on node ${target.node}`, () =>
      stagingState(client, { ...where, signal: o.signal }),
    )) === 'present';
  if (report.staging.present) report.staging.copy = 'kept';
  else {
    report.staging.fetchCommand = fetchCommand({
      sourceNode: source.node,
      targetNode: target.node,
      generation: source.generation,
      file: source.file,
    });
  }
  if (r.dryRun) return report;
  if (!report.staging.present) {
    o.onFetchCommand(report.staging.fetchCommand!);
    const total = Math.round(r.timeoutMs / 1000);
    const waitedMs = await waitForStaging(client, {
      ...where,
      logger: o.logger,
      timeoutMs: r.timeoutMs,
      pollMs: o.pollMs ?? 2000,
      signal: o.signal,
      onWaiting: (ms) =>
        o.onWaiting(
          `waiting for ${source.file} on ${target.node}:${storage} (${Math.round(ms / 1000)} s of ${total} s; Ctrl-C stops)`,
        ),
    });
    report.staging.present = true;
    report.staging.copy = 'kept';
    report.staging.waitedSeconds = Math.round(waitedMs / 1000);
    o.logger.info(`${volid} is on node ${target.node}`);
  }
  let upid: string;
  try {
    ({ upid } = await client.restoreGuest(
      target.node,
      {
        type: target.type,
        vmid: target.vmid,
        volid,
        ...(r.force ? { force: true } : {}),
        ...(r.storage !== undefined ? { storage: r.storage } : {}),
      },
      o.forceSignal,
    ));
  } catch (error) {
    report.task = { upid: '', exitstatus: '', ok: false, errors: [errorMessage(error)] };
    report.exitCode = ExitCode.partialFailure;
    return report;
  }
  o.logger.info(`restore task ${upid} started on node ${target.node}`);
  // The first Ctrl-C does not stop a restore halfway; SIGTERM stops following it.
  let watched: Awaited<ReturnType<typeof watchTask>>;
  try {
    watched = await watchTask(client, {
      node: target.node,
      upid,
      logger: o.logger,
      signal: o.forceSignal,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
  } catch (error) {
    if (o.forceSignal.aborted) {
      throw new InterruptedError(
        `stopped following restore task ${upid}; it goes on on node ${target.node} (the staging copy ${volid} stays)`,
      );
    }
    report.task = {
      upid,
      exitstatus: '',
      ok: false,
      errors: [`lost track of the restore task: ${errorMessage(error)}`],
    };
    report.exitCode = ExitCode.partialFailure;
    return report;
  }
  const outcome = taskOutcome(watched.exitstatus, watched.lines);
  report.task = { upid, exitstatus: watched.exitstatus, ok: outcome.ok, errors: outcome.errors };
  if (!outcome.ok) {
    report.exitCode = ExitCode.partialFailure;
    return report;
  }
  if (r.keepArchive) return report;
  try {
    const deleted = await client.deleteVolume(target.node, storage, volid);
    if (deleted.upid) {
      const w = await watchTask(client, {
        node: target.node,
        upid: deleted.upid,
        logger: o.logger,
        firstPollMs: 50,
        statusEvery: 1,
      });
      const del = taskOutcome(w.exitstatus, w.lines);
      if (!del.ok) throw new Error(del.errors.join('; ') || w.exitstatus);
    }
    report.staging.copy = 'deleted';
  } catch (error) {
    report.warnings.push(`staging copy ${volid} could not be deleted: ${errorMessage(error)}`);
  }
  return report;
}
