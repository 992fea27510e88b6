/**
 * `doctor` without the printing: the API checks of every cluster and the NAS
 * checks side by side, gathered into one report. Exit code: 1 when any check
 * failed, 3 when neither an API nor the NAS could be reached, else 0.
 */
import type { Config } from '../config/index.js';
import { DEFAULT_LOCK_LEASE_MS } from '../config/types.js';
import { ConfigError, ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { PveClientOptions } from '../pveApi/index.js';
import { checkCluster } from './clusterChecks.js';
import { checkNas } from './nasChecks.js';
import { CHECK_STATUSES, type CheckStatus, type DoctorReport } from './types.js';

export interface CollectDoctorOptions {
  config: Config;
  /** `--node`: only these nodes. */
  nodes: string[];
  /** `--restore`: also check the privileges a restore needs. */
  restore?: boolean;
  logger: Logger;
  signal?: AbortSignal;
  onSecret?: (secret: string) => void;
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
  now?: () => Date;
}

export async function collectDoctor(o: CollectDoctorOptions): Promise<DoctorReport> {
  const clusters = await Promise.all(
    o.config.clusters.map((cluster) =>
      checkCluster(cluster, o.config, {
        logger: o.logger.child({ cluster: cluster.name }),
        nodes: o.nodes,
        ...(o.restore ? { restore: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onSecret ? { onSecret: o.onSecret } : {}),
        ...(o.client ? { client: o.client } : {}),
      }),
    ),
  );
  // A --node no cluster has is a mistake (like run's): said before anything is written.
  if (clusters.every((c) => c.listed.length > 0)) {
    const known = new Set(clusters.flatMap((c) => c.listed));
    const unknown = o.nodes.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new ConfigError(
        `--node ${unknown.join(', ')}: no such node in the clusters (they have: ${[...known].sort().join(', ')})`,
      );
    }
  }
  // The NAS trees of every node the clusters named (or --node when no API answered).
  const fromApi = clusters.flatMap((c) => c.nodes);
  const nodes = [...new Set(fromApi.length > 0 ? fromApi : o.nodes)].sort();
  const nas = await checkNas(o.config.ftp, nodes, {
    logger: o.logger,
    ...(o.signal ? { signal: o.signal } : {}),
    leaseSeconds: (o.config.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS) / 1000,
  });
  const groups = [...clusters.flatMap((c) => c.groups), ...nas.groups];
  const counts = Object.fromEntries(CHECK_STATUSES.map((s) => [s, 0])) as Record<
    CheckStatus,
    number
  >;
  for (const g of groups) for (const l of g.lines) counts[l.status]++;
  const nothingReachable = !nas.reachable && clusters.every((c) => !c.reachable);
  return {
    version: 1,
    generatedAt: (o.now ?? (() => new Date()))().toISOString(),
    groups,
    counts,
    exitCode: nothingReachable
      ? ExitCode.nothingDone
      : counts.fail > 0
        ? ExitCode.partialFailure
        : ExitCode.ok,
  };
}
