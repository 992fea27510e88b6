/**
 * The nightly run: inventory of every cluster, the plan, the nodes in a
 * bounded pool (guests one by one inside each), the report. Config and usage
 * errors (ConfigError from planRun) propagate: nothing was started then.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Config, GuestStateFilter } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { PveClientOptions } from '../pveApi/index.js';
import { ftpNodeNas } from './ftpNodeNas.js';
import { readInventory } from './inventory.js';
import type { OpenNodeNas } from './nodeNas.js';
import { type NodeRunContext, runNode } from './nodeRunner.js';
import { type NodePlan, planRun } from './plan.js';
import { runPool } from './pool.js';
import { buildReport, type RunReport } from './report.js';
import type { NodeResult } from './types.js';

export interface RunBackupOptions {
  config: Config;
  nodes: string[];
  vmids: number[];
  guests?: GuestStateFilter;
  rotate: boolean;
  breakLock: boolean;
  logger: Logger;
  signal: AbortSignal;
  forceSignal: AbortSignal;
  onProgress?: (node: string, line: string) => void;
  /** Told every secret the API clients come to use (tickets, CSRF tokens), for log redaction. */
  onSecret?: (secret: string) => void;
  /** Test/bench knobs. */
  tuning?: {
    client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
    watch?: NodeRunContext['watch'];
    ftpTimeoutMs?: number;
    openNas?: OpenNodeNas;
  };
}

/** A run id that sorts by time and is unique enough across hosts: `20261130T020000Z-1a2b3c`. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Plan the run: inventory + selection. Returns the clients to close. */
export async function planBackup(o: {
  config: Config;
  nodes: string[];
  vmids: number[];
  guests?: GuestStateFilter;
  logger: Logger;
  signal?: AbortSignal;
  onSecret?: (secret: string) => void;
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
}) {
  const inv = await readInventory(o.config, {
    logger: o.logger,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onSecret ? { onSecret: o.onSecret } : {}),
    ...(o.client ? { client: o.client } : {}),
  });
  try {
    const plans: NodePlan[] =
      inv.inventory.length === 0
        ? []
        : planRun(o.config, inv.inventory, {
            nodes: o.nodes,
            vmids: o.vmids,
            ...(o.guests ? { guests: o.guests } : {}),
          });
    return { ...inv, plans };
  } catch (error) {
    await Promise.all([...inv.clients.values()].map((c) => c.close().catch(() => {})));
    throw error;
  }
}

/** Run the backups and return the report (its exitCode is the command's). */
export async function runBackup(o: RunBackupOptions): Promise<RunReport> {
  const startedAt = new Date();
  const runId = newRunId(startedAt);
  const logger = o.logger.child({ runId });
  logger.info(`run ${runId} starting`);
  // Every running guest waits on these signals (one listener each): allow
  // as many as parallel nodes, without Node's leak warning at 11.
  setMaxListeners(Math.max(10, o.config.backup.parallelNodes * 4), o.signal, o.forceSignal);
  const planned = await planBackup({
    ...o,
    logger,
    ...(o.tuning?.client ? { client: o.tuning.client } : {}),
  });
  try {
    const openNas =
      o.tuning?.openNas ??
      ftpNodeNas({
        ftp: o.config.ftp,
        retention: o.config.retention,
        runId,
        logger,
        startedAt,
        ...(o.config.lockLeaseMs !== undefined ? { lockLeaseMs: o.config.lockLeaseMs } : {}),
        ...(o.tuning?.ftpTimeoutMs ? { timeoutMs: o.tuning.ftpTimeoutMs } : {}),
      });
    const results = await runPool(planned.plans, o.config.backup.parallelNodes, async (plan) => {
      const api = planned.clients.get(plan.cluster);
      if (!api) throw new Error(`no API client for cluster ${plan.cluster}`);
      const result = await runNode(
        plan,
        {
          runId,
          storage: o.config.backup.storage,
          mode: o.config.backup.mode,
          compress: o.config.backup.compress,
          rotate: o.rotate,
          breakLock: o.breakLock,
        },
        {
          api,
          openNas,
          logger,
          signal: o.signal,
          forceSignal: o.forceSignal,
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
          ...(o.tuning?.watch ? { watch: o.tuning.watch } : {}),
        },
      );
      // An empty text clears the node's live progress line.
      o.onProgress?.(plan.node, '');
      const problem = planned.nodeProblems.get(`${plan.cluster}/${plan.node}`);
      if (problem && result.status === 'offline') result.reason = `guest list failed: ${problem}`;
      return result;
    });
    const nodes: NodeResult[] = results.map((r, i) => {
      if (r.ok) return r.value;
      // A bug in one node's run: report it as that node's error, keep the others.
      const plan = planned.plans[i] as NodePlan;
      const message = errorMessage(r.error);
      logger.error(`node ${plan.node}: internal error: ${message}`, {
        stack: (r.error as Error)?.stack,
      });
      return {
        cluster: plan.cluster,
        node: plan.node,
        pveVersion: plan.pveVersion,
        status: 'error',
        reason: `internal error: ${message}`,
        guests: [],
        skipped: plan.skipped,
        warnings: [],
      };
    });
    const report = buildReport({
      runId,
      startedAt,
      finishedAt: new Date(),
      interrupted: o.signal.aborted,
      nodes,
      clusterFailures: planned.failures,
    });
    logger.info(`run ${runId} finished`, { exitCode: report.exitCode, ...report.summary });
    return report;
  } finally {
    await Promise.all([...planned.clients.values()].map((c) => c.close().catch(() => {})));
  }
}
