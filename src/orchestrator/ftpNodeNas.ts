/**
 * The real NodeNas: one FTP session per node run (basic-ftp allows one command
 * at a time per client, and the node runner is sequential), the node's layout,
 * lock, verify and rotation modules bound together. The session opener is a
 * parameter so tests can bind the same adapter to an in-memory NAS.
 */
import { hostname } from 'node:os';
import type { FtpConfig } from '../config/index.js';
import { DEFAULT_LOCK_LEASE_MS } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { nodeLayout } from '../ftp/layout.js';
import { acquireLock } from '../ftp/lock.js';
import { finishNodeRun, prepareNodeTree, type RotationReport } from '../ftp/rotate.js';
import { type FtpSettings, type NasSession, openNasSession } from '../ftp/session.js';
import { verifyFiles } from '../ftp/verify.js';
import type { Logger } from '../log.js';
import { nasTimings } from './nasTimings.js';
import type { NodeNas, OpenNodeNas } from './nodeNas.js';
import type { NodeRotationSummary } from './types.js';

/** The report summary of what a rotation call did. */
export function rotationSummary(r: RotationReport): NodeRotationSummary {
  return {
    rotated: r.outcome === 'rotated',
    removed: r.removed,
    retainedPastKeep: r.protected.map((p) => ({ name: p.newName, reason: p.reason })),
    steps: [...r.repairs, ...r.renames.map((s) => `rename ${s.from} → ${s.to}`)],
  };
}

export interface FtpNodeNasOptions {
  ftp: FtpConfig;
  keep: number;
  runId: string;
  logger: Logger;
  startedAt: Date;
  /** The config's lockLease; default 10 minutes. The NAS timeouts derive from it (nasTimings.ts). */
  lockLeaseMs?: number;
  /** Overrides the FTP command timeout derived from the lease (tests, bench). */
  timeoutMs?: number;
  /** Overrides the renewal interval derived from the lease (tests). */
  renewEveryMs?: number;
}

/** Connects one FTP session (the real one by default; tests pass an in-memory NAS). */
export type OpenSession = (settings: FtpSettings, logger: Logger) => Promise<NasSession>;

/**
 * Opens the NAS side of a node run over a fresh FTP session. Every node of a
 * run talks to the same NAS: once one node's session found it silent, nodes
 * that start later fail at once instead of each waiting out a connect timeout
 * (the run must end within 2 minutes of the NAS going silent, however many
 * nodes are still queued).
 */
export function ftpNodeNas(
  o: FtpNodeNasOptions,
  openSession: OpenSession = openNasSession,
): OpenNodeNas {
  let silent: unknown;
  return async (node: string): Promise<NodeNas> => {
    // Validates the node name before it becomes part of any remote path.
    const layout = nodeLayout(o.ftp.dir, node);
    if (silent !== undefined) {
      throw new Error(
        `the NAS does not answer (another node's session failed after its reconnect: ${errorMessage(silent)})`,
      );
    }
    const logger = o.logger.child({ node });
    const timings = {
      ...nasTimings(o.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS),
      ...(o.renewEveryMs ? { renewEveryMs: o.renewEveryMs } : {}),
    };
    // No abort signal: after an interrupt we still release the lock and write the manifest.
    const fs = await openSession(
      { ...o.ftp, timeoutMs: o.timeoutMs ?? timings.commandTimeoutMs },
      logger,
    );
    fs.gone.addEventListener(
      'abort',
      () => {
        silent ??= fs.gone.reason;
      },
      { once: true },
    );
    return {
      timings,
      gone: fs.gone,
      revive: (timeoutMs) => fs.revive(timeoutMs),
      lock: (breakLock) =>
        acquireLock(
          fs,
          layout.lock,
          {
            runId: o.runId,
            host: hostname(),
            pid: process.pid,
            startedAt: o.startedAt.toISOString(),
          },
          { breakLock, logger, leaseMs: timings.leaseMs },
        ),
      heal: async () => {
        const r = await prepareNodeTree(fs, layout.nodeDir, {
          keep: o.keep,
          logger,
          runId: o.runId,
        });
        return rotationSummary(r).steps;
      },
      verify: (expected) => verifyFiles(fs, layout.transfer, expected),
      finish: async (manifest, rotate) => {
        const r = await finishNodeRun(fs, layout.nodeDir, manifest, {
          keep: o.keep,
          rotate,
          logger,
        });
        return rotationSummary(r);
      },
      close: () => fs.close(),
    };
  };
}
