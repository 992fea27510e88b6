/**
 * Narrow inputs of the notifications, so they can be sent from any end of a
 * run (a full report, or one that failed before any node was done) without
 * depending on how the orchestrator builds its report.
 */

import type { RunReport } from '../orchestrator/report.js';
import type { GuestResult, NodeResult } from '../orchestrator/types.js';

/** What the notifications read of a run report (the full RunReport satisfies it). */
export type RunReportLike = Pick<
  RunReport,
  'runId' | 'startedAt' | 'finishedAt' | 'interrupted' | 'summary' | 'clusterFailures'
> & {
  nodes: (Pick<NodeResult, 'cluster' | 'node' | 'status' | 'reason'> & {
    guests: Pick<GuestResult, 'vmid' | 'name' | 'outcome' | 'error'>[];
  })[];
};

/** The logger methods used (a winston Logger fits). */
export interface NotifyLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

/** Bounds of one notification; the defaults are DESIGN.md's (10 s, one retry). */
export interface NotifyBounds {
  /** Time for one attempt (request or command). Default 10 000. */
  timeoutMs?: number;
  /** Pause before the one retry. Default 1 000. */
  retryDelayMs?: number;
}

export interface NotifyOptions extends NotifyBounds {
  logger: NotifyLogger;
  /**
   * Gives up on the notifications still running. Not the run's own signal:
   * after SIGTERM that one is already aborted, and the end of an interrupted
   * run must still be announced (pass one a second SIGTERM aborts).
   */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_DELAY_MS = 1_000;
