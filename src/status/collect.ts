/**
 * `status` without the printing: read the clusters' guests (API GETs) and the
 * NAS node trees (FTP reads) side by side, then compute coverage. Read-only.
 * A cluster or NAS tree that cannot be read is reported; only when nothing at
 * all could be read is that an error (exit 3).
 */
import type { Config, GuestStateFilter } from '../config/index.js';
import { ExitCode, errorMessage, PreflightError } from '../errors.js';
import type { Logger } from '../log.js';
import { readInventory } from '../orchestrator/inventory.js';
import type { ClusterFailure } from '../orchestrator/types.js';
import type { PveClientOptions } from '../pveApi/index.js';
import { GUEST_TYPES } from '../vocabulary.js';
import { type CoverageRow, coverage, uncovered, VERDICTS, type Verdict } from './coverage.js';
import { readNasTrees } from './nasTrees.js';

export interface StatusReport {
  version: 1;
  generatedAt: string;
  maxAgeSeconds: number;
  rows: CoverageRow[];
  /** Verdict → number of rows. */
  counts: Record<Verdict, number>;
  clusterFailures: ClusterFailure[];
  /** Node trees (or the NAS as a whole, node '') that could not be read. */
  nasProblems: { node: string; problem: string }[];
  exitCode: number;
}

export interface CollectStatusOptions {
  config: Config;
  filters: { nodes: string[]; vmids: number[]; guests?: GuestStateFilter };
  maxAgeSeconds: number;
  logger: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  /** Test knobs passed to every API client. */
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
  nasConcurrency?: number;
  /** Secrets the API clients acquire (tickets), for redaction. */
  onSecret?: (secret: string) => void;
}

export async function collectStatus(o: CollectStatusOptions): Promise<StatusReport> {
  // Every type the clusters have (status shows unselected guests too), whatever backup.types says.
  const everyType: Config = {
    ...o.config,
    backup: { ...o.config.backup, types: [...GUEST_TYPES] },
  };
  const [inv, nas] = await Promise.all([
    readInventory(everyType, {
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.client ? { client: o.client } : {}),
      ...(o.onSecret ? { onSecret: o.onSecret } : {}),
    }),
    readNasTrees(o.config.ftp, {
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.filters.nodes.length > 0 ? { nodes: o.filters.nodes } : {}),
      ...(o.nasConcurrency ? { concurrency: o.nasConcurrency } : {}),
    }).catch((error: unknown) => ({
      trees: [],
      problems: [{ node: '', problem: `cannot read the NAS: ${errorMessage(error)}` }],
    })),
  ]);
  await Promise.all([...inv.clients.values()].map((c) => c.close().catch(() => {})));
  const nasDown = nas.problems.some((p) => p.node === '');
  if (nasDown || (inv.inventory.length === 0 && nas.trees.length === 0)) {
    // Without the NAS every guest would read "missing": say that nothing could be judged.
    throw new PreflightError(
      `nothing could be read: ${[...inv.failures.map((f) => `cluster ${f.cluster}: ${f.error}`), ...nas.problems.map((p) => p.problem)].join('; ')}`,
    );
  }
  // A generation whose manifest cannot be read is reported; the others still count.
  for (const tree of nas.trees) {
    for (const g of tree.generations) {
      if (g.manifestProblem !== undefined && g.manifestProblem !== 'missing') {
        nas.problems.push({
          node: tree.node,
          problem: `${g.name}/manifest.json: ${g.manifestProblem}`,
        });
      }
    }
  }
  const rows = coverage({
    config: o.config,
    inventory: inv.inventory,
    unreadClusters: inv.failures.map((f) => f.cluster),
    trees: nas.trees,
    filters: o.filters,
    now: (o.now ?? (() => new Date()))(),
    maxAgeSeconds: o.maxAgeSeconds,
  });
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const r of rows) counts[r.verdict]++;
  const somethingWrong =
    uncovered(rows).length > 0 || inv.failures.length > 0 || nas.problems.length > 0;
  return {
    version: 1,
    generatedAt: (o.now ?? (() => new Date()))().toISOString(),
    maxAgeSeconds: o.maxAgeSeconds,
    rows,
    counts,
    clusterFailures: inv.failures,
    nasProblems: nas.problems,
    exitCode: somethingWrong ? ExitCode.partialFailure : ExitCode.ok,
  };
}
