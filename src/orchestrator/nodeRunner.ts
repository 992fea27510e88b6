/**
 * One node's part of a run: NAS session, node lock, healing of an interrupted
 * earlier run, the guests strictly one after another, then manifest and
 * rotation, and the lock released however it ends. Returns a NodeResult; only
 * a bug throws.
 */

import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type GuestJob, type GuestRunContext, runGuest } from './guestRunner.js';
import type { ManifestDoc, NodeApi, OpenNodeNas } from './nodePorts.js';
import type { GuestResult, NodeResult } from './types.js';

/** The plan of one node (structurally planRun's NodePlan). */
export interface PlannedNode {
  cluster: string;
  node: string;
  online: boolean;
  pveVersion: string;
  guests: {
    vmid: number;
    type: GuestResult['type'];
    name?: string;
    status: string;
    explicit: boolean;
  }[];
  skipped: { vmid: number; type: GuestResult['type']; name?: string; reason: string }[];
}

export interface NodeRunSettings {
  runId: string;
  storage: string;
  mode: GuestJob['mode'];
  compress: GuestJob['compress'];
  rotate: boolean;
  breakLock: boolean;
}

export interface NodeRunContext {
  api: NodeApi;
  openNas: OpenNodeNas;
  logger: Logger;
  /** First interrupt: start no new guest; the running one finishes. */
  signal: AbortSignal;
  /** Second interrupt: stop the running vzdump through the API. */
  forceSignal: AbortSignal;
  onProgress?: (node: string, line: string) => void;
  watch?: GuestRunContext['watch'];
  now?: () => number;
}

/** Run one node's backups; never throws for an operational problem. */
export async function runNode(
  plan: PlannedNode,
  settings: NodeRunSettings,
  ctx: NodeRunContext,
): Promise<NodeResult> {
  const now = ctx.now ?? Date.now;
  const log = ctx.logger.child({ cluster: plan.cluster, node: plan.node });
  const startedAt = new Date(now()).toISOString();
  const result: NodeResult = {
    cluster: plan.cluster,
    node: plan.node,
    pveVersion: plan.pveVersion,
    status: 'done',
    guests: [],
    skipped: plan.skipped,
    warnings: [],
    startedAt,
  };
  const notStarted = (reason: string): GuestResult[] =>
    plan.guests
      .filter((g) => !result.guests.some((r) => r.vmid === g.vmid))
      .map((g) => ({
        vmid: g.vmid,
        type: g.type,
        ...(g.name !== undefined ? { name: g.name } : {}),
        state: g.status,
        outcome: 'not-started',
        error: reason,
        warnings: [],
        files: [],
        nodeCopy: 'none',
      }));
  const end = (status: NodeResult['status'], reason?: string): NodeResult => {
    result.status = status;
    if (reason !== undefined) result.reason = reason;
    if (status !== 'done' && status !== 'nothing-to-do')
      result.guests.push(...notStarted(reason ?? status));
    result.finishedAt = new Date(now()).toISOString();
    return result;
  };

  if (!plan.online) return end('offline', `node ${plan.node} is offline`);
  if (plan.guests.length === 0) return end('nothing-to-do');
  if (ctx.signal.aborted) return end('error', 'interrupted before the node started');

  let nas: Awaited<ReturnType<OpenNodeNas>>;
  try {
    nas = await ctx.openNas(plan.node);
  } catch (error) {
    return end('error', `NAS not reachable: ${errorMessage(error)}`);
  }
  try {
    let lock: Awaited<ReturnType<typeof nas.lock>>;
    try {
      lock = await nas.lock(settings.breakLock);
    } catch (error) {
      return end('error', `could not take the node lock: ${errorMessage(error)}`);
    }
    if (!lock.acquired) {
      if (lock.holder) {
        // Only who and since when: never anything else the lock file may carry.
        const { runId, host, pid, startedAt } = lock.holder;
        result.lockHolder = { runId, host, pid, startedAt };
      }
      return end('locked', lock.message);
    }
    try {
      return await underLock(plan, settings, ctx, nas, result, log, end, notStarted);
    } finally {
      try {
        await lock.release();
      } catch (error) {
        result.warnings.push(`could not release the node lock: ${errorMessage(error)}`);
        log.error('could not release the node lock', { error: errorMessage(error) });
      }
    }
  } finally {
    nas.close();
  }
}

async function underLock(
  plan: PlannedNode,
  settings: NodeRunSettings,
  ctx: NodeRunContext,
  nas: Awaited<ReturnType<OpenNodeNas>>,
  result: NodeResult,
  log: Logger,
  end: (status: NodeResult['status'], reason?: string) => NodeResult,
  notStarted: (reason: string) => GuestResult[],
): Promise<NodeResult> {
  const now = ctx.now ?? Date.now;
  try {
    const healed = await nas.heal();
    if (healed.length > 0) {
      result.healing = healed;
      log.warn('healed what an interrupted earlier run left', { steps: healed.length });
    }
  } catch (error) {
    // Without a sound tree we would risk the existing generations: stop here.
    return end('error', `could not repair the NAS tree: ${errorMessage(error)}`);
  }

  await reportStrays(plan.node, settings.storage, ctx, result, log);

  const runStarted = new Date(now()).toISOString();
  const manifestOf = (guests: GuestResult[]): ManifestDoc => ({
    version: 1,
    runId: settings.runId,
    node: plan.node,
    cluster: plan.cluster,
    pveVersion: plan.pveVersion,
    startedAt: runStarted,
    finishedAt: new Date(now()).toISOString(),
    guests: guests
      .filter((g) => g.outcome !== 'not-started')
      .map((g) => ({
        vmid: g.vmid,
        type: g.type,
        ...(g.name !== undefined ? { name: g.name } : {}),
        status: g.outcome === 'saved' ? 'saved' : 'failed',
        ...(g.error !== undefined ? { error: g.error } : {}),
        ...(g.warnings.length > 0 ? { warnings: g.warnings } : {}),
        files: g.files.map((f) => ({ name: f.name, size: f.size ?? 0 })),
      })),
  });
  for (const [i, guest] of plan.guests.entries()) {
    if (ctx.signal.aborted) break;
    ctx.onProgress?.(
      plan.node,
      `guest ${guest.vmid}${guest.name ? ` (${guest.name})` : ''}: vzdump ${i + 1}/${plan.guests.length}`,
    );
    const guestResult = await runGuest(
      {
        node: plan.node,
        vmid: guest.vmid,
        type: guest.type,
        ...(guest.name !== undefined ? { name: guest.name } : {}),
        state: guest.status,
        storage: settings.storage,
        mode: settings.mode,
        compress: settings.compress,
      },
      {
        api: ctx.api,
        nas,
        logger: log,
        forceSignal: ctx.forceSignal,
        onProgress: (line) => ctx.onProgress?.(plan.node, line),
        // The manifest in transfer/ says the guest is saved before its node copy goes: a run
        // killed after that delete leaves a transfer/ whose good copies rotation protects.
        beforeDelete: async (saved) => {
          await nas.finish(manifestOf([...result.guests, saved]), false);
        },
        ...(ctx.watch ? { watch: ctx.watch } : {}),
        now,
      },
    );
    result.guests.push(guestResult);
  }
  if (ctx.signal.aborted) result.guests.push(...notStarted('interrupted'));

  const manifest = manifestOf(result.guests);
  try {
    // Also after an interrupt: what was saved is complete and belongs in a generation.
    result.rotation = await nas.finish(manifest, settings.rotate);
  } catch (error) {
    // The verified archives stay in transfer/; the next run turns it into a generation.
    result.finishedAt = new Date(now()).toISOString();
    result.status = 'error';
    result.reason = `manifest/rotation failed: ${errorMessage(error)}`;
    return result;
  }
  return end('done');
}

/**
 * Archives already on the staging storage were left by earlier runs (a failed
 * upload keeps its node copy; a killed run may leave one): they are never
 * deleted unverified, but the node disk was meant to hold one archive at a
 * time, so the admin hears about them on every run until they are dealt with.
 */
async function reportStrays(
  node: string,
  storage: string,
  ctx: NodeRunContext,
  result: NodeResult,
  log: Logger,
): Promise<void> {
  let volumes: Awaited<ReturnType<NodeRunContext['api']['backupContent']>>;
  try {
    volumes = await ctx.api.backupContent(node, storage);
  } catch (error) {
    // The guest runner lists the storage again and reports what matters there.
    log.debug('could not list the staging storage at node start', { error: errorMessage(error) });
    return;
  }
  if (volumes.length === 0) return;
  const bytes = volumes.reduce((sum, v) => sum + v.size, 0);
  const names = volumes.map((v) => v.volid.replace(/^[^:]*:(backup\/)?/, '')).join(', ');
  const warning = `${volumes.length} archive(s) (${bytes} bytes) from earlier runs are still on staging storage ${storage}, kept because their NAS copy was never verified: ${names}`;
  result.warnings.push(warning);
  log.warn(warning);
}
