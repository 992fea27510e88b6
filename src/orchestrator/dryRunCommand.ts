/**
 * `run --dry-run` end to end: inventory and plan (GETs), then per node a
 * read-only look at the NAS (listings, manifests) to show the repairs and the
 * rotation a run would do. Prints JSON with --json, a plan text otherwise.
 */
import type { CommandContext, RunOptions } from '../commands/types.js';
import type { Config } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { openNasSession } from '../ftp/session.js';
import type { PveClientOptions } from '../pveApi/index.js';
import { type DryRunNode, dryRunNode } from './dryRun.js';
import { runPool } from './pool.js';
import { formatBytes } from './report.js';
import { newRunId, planBackup } from './runBackup.js';
import type { ClusterFailure } from './types.js';

export interface DryRunReport {
  version: 1;
  runId: string;
  dryRun: true;
  exitCode: number;
  clusterFailures: ClusterFailure[];
  nodes: DryRunNode[];
}

/** Plan without writing; returns the exit code (3 when no cluster could be read). */
export async function runDryRun(
  config: Config,
  options: RunOptions,
  ctx: CommandContext,
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>,
): Promise<number> {
  const runId = newRunId();
  const planned = await planBackup({
    config,
    nodes: options.node,
    vmids: options.vmid,
    ...(options.guests ? { guests: options.guests } : {}),
    logger: ctx.logger,
    signal: ctx.signal,
    ...(client ? { client } : {}),
  });
  try {
    const results = await runPool(planned.plans, config.backup.parallelNodes, async (plan) => {
      const fs = await openNasSession(config.ftp, ctx.logger.child({ node: plan.node }));
      try {
        return await dryRunNode(plan, fs, config, {
          logger: ctx.logger,
          runId,
          rotate: !options.noRotate,
        });
      } finally {
        fs.close();
      }
    });
    const nodes = results.map((r, i): DryRunNode => {
      if (r.ok) return r.value;
      const plan = planned.plans[i];
      return {
        cluster: plan?.cluster ?? '',
        node: plan?.node ?? '',
        online: plan?.online ?? false,
        pveVersion: plan?.pveVersion ?? '',
        guests: plan?.guests ?? [],
        skipped: plan?.skipped ?? [],
        generations: [],
        lockPresent: false,
        repairs: [],
        renames: [],
        removes: [],
        retainedPastKeep: [],
        error: errorMessage(r.error),
      };
    });
    const failed = planned.failures.length + nodes.filter((n) => n.error !== undefined).length;
    const exitCode = failed === 0 ? 0 : nodes.some((n) => n.error === undefined) ? 1 : 3;
    const report: DryRunReport = {
      version: 1,
      runId,
      dryRun: true,
      exitCode,
      clusterFailures: planned.failures,
      nodes,
    };
    if (options.json) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else ctx.stdout.write(formatDryRun(report));
    return exitCode;
  } finally {
    await Promise.all([...planned.clients.values()].map((c) => c.close().catch(() => {})));
  }
}

/** The plan as text. */
export function formatDryRun(report: DryRunReport): string {
  const out: string[] = ['DRY RUN: nothing is started, uploaded, renamed or deleted.'];
  for (const c of report.clusterFailures)
    out.push(`cluster ${c.cluster}: ${c.kind} failure: ${c.error}`);
  for (const n of report.nodes) {
    out.push('', `${n.cluster}/${n.node} (PVE ${n.pveVersion})${n.online ? '' : ' OFFLINE'}`);
    for (const g of n.guests) {
      out.push(
        `  back up ${g.type} ${g.vmid} ${g.name ?? ''} (${g.status}${g.explicit ? ', explicit' : ''})`,
      );
    }
    for (const s of n.skipped)
      out.push(`  skip    ${s.type} ${s.vmid} ${s.name ?? ''}: ${s.reason}`);
    if (n.error) out.push(`  NAS: ${n.error}`);
    if (n.lockPresent)
      out.push('  NAS: .lock present: a run would skip this node unless --break-lock');
    for (const g of n.generations) {
      out.push(
        `  on NAS: ${g.name} ${g.files.length} file(s) ${formatBytes(g.totalSize)}${g.incomplete ? ' (incomplete)' : ''}`,
      );
    }
    for (const r of n.repairs) out.push(`  repair: ${r}`);
    for (const r of n.renames) out.push(`  rename: ${r.from} -> ${r.to}`);
    for (const r of n.removes) out.push(`  delete: ${r}`);
    for (const r of n.retainedPastKeep) out.push(`  keep past retention: ${r.name}: ${r.reason}`);
  }
  return `${out.join('\n')}\n`;
}
