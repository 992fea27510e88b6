/**
 * One node's part of a run: NAS session, node lock, healing of an interrupted
 * earlier run, the guests strictly one after another, then manifest and
 * rotation, and the lock released however it ends. Returns a NodeResult; only
 * a bug throws.
 *
 * The lock is a lease kept while the guests run (leaseKeeper.ts). A lost lease
 * starts no further guest. A NAS that stops answering (its session failed
 * after the reconnect) ends the node: the running vzdump is stopped through
 * the API (its archive could not leave the node disk), the guests not yet
 * started are `not-started`, no manifest or rotation is attempted, and the
 * lock release gets one short last attempt (nasTimings.ts counts the worst case).
 */

import { errorMessage } from '../errors.js';
import type { Manifest } from '../ftp/manifest.js';
import type { Logger } from '../log.js';
import { type GuestJob, type GuestRunContext, runGuest } from './guestRunner.js';
import { keepLease, type LeaseKeeper } from './leaseKeeper.js';
import { settleLeftovers } from './leftovers.js';
import type { NodeApi, NodeNas, OpenNodeNas } from './nodeNas.js';
import type { NodePlan } from './plan.js';
import { TaskEndHint } from './taskPacer.js';
import type { GuestResult, NodeResult } from './types.js';

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

/** One node's run in progress: its plan, settings, context and the result being built. */
interface NodeRun {
  plan: NodePlan;
  settings: NodeRunSettings;
  ctx: NodeRunContext;
  log: Logger;
  now: () => number;
  result: NodeResult;
}

/** Run one node's backups; never throws for an operational problem. */
export async function runNode(
  plan: NodePlan,
  settings: NodeRunSettings,
  ctx: NodeRunContext,
): Promise<NodeResult> {
  const now = ctx.now ?? Date.now;
  const run: NodeRun = {
    plan,
    settings,
    ctx,
    now,
    log: ctx.logger.child({ cluster: plan.cluster, node: plan.node }),
    result: {
      cluster: plan.cluster,
      node: plan.node,
      pveVersion: plan.pveVersion,
      status: 'done',
      guests: [],
      skipped: plan.skipped,
      warnings: [],
      startedAt: new Date(now()).toISOString(),
    },
  };

  if (!plan.online) return end(run, 'offline', `node ${plan.node} is offline`);
  if (plan.guests.length === 0) return end(run, 'nothing-to-do');
  if (ctx.signal.aborted) return end(run, 'error', 'interrupted before the node started');

  let nas: NodeNas;
  try {
    nas = await ctx.openNas(plan.node);
  } catch (error) {
    return end(run, 'error', `NAS not reachable: ${errorMessage(error)}`);
  }
  try {
    return await underLock(run, nas);
  } finally {
    nas.close();
  }
}

/** The planned guests that have no result yet, as `not-started` with the reason. */
function notStarted({ plan, result }: NodeRun, reason: string): GuestResult[] {
  return plan.guests
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
}

/** Close the node's result with its status; a node that could not run lists its guests as not started. */
function end(run: NodeRun, status: NodeResult['status'], reason?: string): NodeResult {
  const { result } = run;
  result.status = status;
  if (reason !== undefined) result.reason = reason;
  if (status !== 'done' && status !== 'nothing-to-do') {
    result.guests.push(...notStarted(run, reason ?? status));
  }
  result.finishedAt = new Date(run.now()).toISOString();
  return result;
}

/** Take the node lock, do the node's work under it, release it however that ends. */
async function underLock(run: NodeRun, nas: NodeNas): Promise<NodeResult> {
  const { result, log } = run;
  let lock: Awaited<ReturnType<NodeNas['lock']>>;
  try {
    lock = await nas.lock(run.settings.breakLock);
  } catch (error) {
    return end(run, 'error', `could not take the node lock: ${errorMessage(error)}`);
  }
  if (!lock.acquired) {
    if (lock.holder) {
      // Only who and since when: never anything else the lock file may carry.
      const { runId, host, pid, startedAt } = lock.holder;
      result.lockHolder = { runId, host, pid, startedAt };
    }
    return end(run, 'locked', lock.message);
  }
  if (lock.tookOver) {
    const { holder, idleMs, message } = lock.tookOver;
    result.warnings.push(message);
    result.lockTakenOver = {
      ...(holder
        ? {
            holder: {
              runId: holder.runId,
              host: holder.host,
              pid: holder.pid,
              startedAt: holder.startedAt,
            },
          }
        : {}),
      idleMs,
    };
  }
  const keeper = keepLease({
    renew: () => lock.renew(),
    everyMs: nas.timings.renewEveryMs,
    leaseMs: nas.timings.leaseMs,
    logger: log,
  });
  try {
    return await backUpGuests(run, nas, keeper);
  } finally {
    keeper.stop();
    await releaseLock(run, nas, lock.release);
  }
}

/**
 * Release the lock; after the NAS stopped answering, one login and release
 * within `releaseTimeoutMs` (the session is closed at the deadline), no more.
 */
async function releaseLock(run: NodeRun, nas: NodeNas, release: () => Promise<void>) {
  const { result, log } = run;
  const fail = (why: string) => {
    result.warnings.push(`could not release the node lock: ${why}`);
    log.error('could not release the node lock', { error: why });
  };
  if (!nas.gone.aborted) {
    try {
      await release();
    } catch (error) {
      fail(errorMessage(error));
    }
    return;
  }
  const ms = nas.timings.releaseTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const attempt = (async () => {
    if (!(await nas.revive(ms))) throw new Error('the NAS still does not answer');
    await release();
  })();
  try {
    if ((await Promise.race([attempt, deadline])) === 'late') {
      // Closing the session makes the pending command fail at once.
      nas.close();
      attempt.catch(() => undefined);
      fail(
        `no answer within ${Math.round(ms / 1000)} s (the NAS does not answer); the lease frees it`,
      );
    }
  } catch (error) {
    fail(`${errorMessage(error)}; the lease frees it`);
  } finally {
    clearTimeout(timer);
  }
}

/** Why no further guest may start on this node, if any: the NAS went silent, or the lease was lost. */
function stopReason(nas: NodeNas, keeper: LeaseKeeper): string | undefined {
  if (nas.gone.aborted) return `the NAS does not answer: ${errorMessage(nas.gone.reason)}`;
  keeper.check();
  if (keeper.lost.aborted) return `lost the node lock: ${errorMessage(keeper.lost.reason)}`;
  return undefined;
}

/** Heal the tree, back the guests up one after another, then write the manifest and rotate. */
async function backUpGuests(run: NodeRun, nas: NodeNas, keeper: LeaseKeeper): Promise<NodeResult> {
  const { plan, settings, ctx, log, now, result } = run;
  try {
    const healed = await nas.heal();
    if (healed.length > 0) {
      result.healing = healed;
      log.warn('healed what an interrupted earlier run left', { steps: healed.length });
    }
  } catch (error) {
    // Without a sound tree we would risk the existing generations: stop here.
    return end(run, 'error', `could not repair the NAS tree: ${errorMessage(error)}`);
  }

  const runStarted = new Date(now()).toISOString();
  const manifestOf = (guests: GuestResult[]) => buildManifest(run, runStarted, guests);
  await takeCareOfLeftovers(run, nas, manifestOf);
  if (nas.makeTransfer) {
    // The hooks then send no MKD per path level (they make it themselves when it is missing).
    await nas.makeTransfer().catch((error: unknown) => {
      log.warn('could not make transfer/; the hook will try', { error: errorMessage(error) });
    });
  }
  // The NAS going silent stops the running vzdump too: its archive could not leave the node.
  const stopTask = AbortSignal.any([ctx.forceSignal, nas.gone]);
  // Node copies whose delete task is still being followed while the next guest runs; all
  // settled before anything is reported.
  const deleting: Promise<void>[] = [];
  const endHint = new TaskEndHint();
  let stopped: string | undefined;
  for (const [i, guest] of plan.guests.entries()) {
    if (ctx.signal.aborted) break;
    stopped = stopReason(nas, keeper);
    if (stopped) break;
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
        forceSignal: stopTask,
        onProgress: (line) => ctx.onProgress?.(plan.node, line),
        // The manifest in transfer/ says the guest is saved before its node copy goes: a run
        // killed after that delete leaves a transfer/ whose good copies rotation protects.
        beforeDelete: async (saved) => {
          await nas.finish(manifestOf([...result.guests, saved]), false);
        },
        deferDeleteWatch: (settling) => deleting.push(settling),
        endHint,
        ...(ctx.watch ? { watch: ctx.watch } : {}),
        now,
      },
    );
    result.guests.push(guestResult);
  }
  await Promise.all(deleting);
  stopped ??= stopReason(nas, keeper);
  if (stopped) {
    // Not ours for sure any more (lease), or not reachable (NAS): leave the tree as it is;
    // the verified archives stay in transfer/ and the next run heals it into a generation.
    log.error(`node ${plan.node}: ${stopped}`);
    return end(run, 'error', stopped);
  }
  if (ctx.signal.aborted) result.guests.push(...notStarted(run, 'interrupted'));

  try {
    // Also after an interrupt: what was saved is complete and belongs in a generation.
    result.rotation = await nas.finish(manifestOf(result.guests), settings.rotate);
  } catch (error) {
    // The verified archives stay in transfer/; the next run turns it into a generation.
    result.finishedAt = new Date(now()).toISOString();
    result.status = 'error';
    result.reason = `manifest/rotation failed: ${errorMessage(error)}`;
    return result;
  }
  return end(run, 'done');
}

/** The node's manifest.json for the guests processed so far (not-started ones are left out). */
function buildManifest(run: NodeRun, startedAt: string, guests: GuestResult[]): Manifest {
  return {
    version: 1,
    runId: run.settings.runId,
    node: run.plan.node,
    cluster: run.plan.cluster,
    pveVersion: run.plan.pveVersion,
    startedAt,
    finishedAt: new Date(run.now()).toISOString(),
    guests: guests
      .filter((g) => g.outcome !== 'not-started')
      .map((g) => ({
        vmid: g.vmid,
        type: g.type,
        // The manifest always carries a name; a guest without one (PVE 3.x OpenVZ) has ''.
        name: g.name ?? '',
        status: g.outcome === 'saved' ? 'saved' : 'failed',
        ...(g.error !== undefined ? { error: g.error } : {}),
        ...(g.warnings.length > 0 ? { warnings: g.warnings } : {}),
        files: g.files.map((f) => ({
          name: f.name,
          size: f.size ?? 0,
          ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
        })),
        ...(g.durationMs !== undefined ? { durationMs: g.durationMs } : {}),
      })),
  };
}

/**
 * Archives earlier runs left on the staging storage: recorded and deleted when
 * the NAS holds the same name and size, else kept and reported (leftovers.ts).
 */
async function takeCareOfLeftovers(
  run: NodeRun,
  nas: NodeNas,
  manifestOf: (guests: GuestResult[]) => Manifest,
): Promise<void> {
  const { plan, settings, ctx, log, result } = run;
  const names = new Map<number, string>();
  for (const g of plan.guests) if (g.name !== undefined) names.set(g.vmid, g.name);
  const leftovers = await settleLeftovers({
    node: plan.node,
    storage: settings.storage,
    api: ctx.api,
    nas,
    logger: log,
    names,
    recordInThisRun: async (saved) => {
      await nas.finish(manifestOf([...result.guests, ...saved]), false);
    },
    ...(ctx.watch ? { watch: ctx.watch } : {}),
    now: run.now,
  });
  result.guests.push(...leftovers.saved);
  result.warnings.push(...leftovers.warnings);
}
