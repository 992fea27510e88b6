/**
 * `pve-ftp-backup list`: the guests of every node with their state and what
 * `run` would do with them (the plan), read through API GETs only.
 */
import { outcomeExitCode } from '../errors.js';
import type { ClusterFailure } from '../orchestrator/types.js';
import type { GuestType } from '../pveApi/index.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, ListOptions } from './types.js';

export interface ListReport {
  version: 1;
  clusterFailures: ClusterFailure[];
  nodes: {
    cluster: string;
    node: string;
    online: boolean;
    pveVersion: string;
    guests: {
      vmid: number;
      type: GuestType;
      name?: string;
      status?: string;
      action: 'backup' | 'skip';
      reason?: string;
      explicit?: boolean;
    }[];
  }[];
}

/** `list` as called by cli.ts. */
export const listCommand: Command<ListOptions> = async (options, ctx) => {
  const config = await loadCommandConfig(options, ctx);
  // The orchestrator (undici) loads once the config is good: a config error is quick.
  const { planBackup } = await import('../orchestrator/runBackup.js');
  const planned = await planBackup({
    config,
    nodes: options.node,
    vmids: [],
    logger: ctx.logger,
    signal: ctx.signal,
    onSecret: (secret) => ctx.redactor.add(secret),
  });
  await Promise.all([...planned.clients.values()].map((c) => c.close().catch(() => {})));
  const report: ListReport = {
    version: 1,
    clusterFailures: planned.failures,
    nodes: planned.plans.map((p) => ({
      cluster: p.cluster,
      node: p.node,
      online: p.online,
      pveVersion: p.pveVersion,
      guests: [
        ...p.guests.map((g) => ({
          vmid: g.vmid,
          type: g.type,
          ...(g.name !== undefined ? { name: g.name } : {}),
          status: g.status,
          action: 'backup' as const,
          explicit: g.explicit,
        })),
        ...p.skipped.map((s) => ({
          vmid: s.vmid,
          type: s.type,
          ...(s.name !== undefined ? { name: s.name } : {}),
          action: 'skip' as const,
          reason: s.reason,
        })),
      ].sort((a, b) => a.vmid - b.vmid),
    })),
  };
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const out: string[] = [];
    for (const c of report.clusterFailures)
      out.push(`cluster ${c.cluster}: ${c.kind} failure: ${c.error}`);
    for (const n of report.nodes) {
      out.push(`${n.cluster}/${n.node} (PVE ${n.pveVersion})${n.online ? '' : ' OFFLINE'}`);
      for (const g of n.guests) {
        const what = g.action === 'backup' ? 'backup' : `skip: ${g.reason}`;
        out.push(
          `  ${String(g.vmid).padEnd(6)} ${g.type.padEnd(6)} ${(g.name ?? '').padEnd(20)} ${(g.status ?? '').padEnd(8)} ${what}`,
        );
      }
    }
    ctx.stdout.write(`${out.join('\n')}\n`);
  }
  return outcomeExitCode({
    problems: report.clusterFailures.length,
    didWork: report.nodes.length > 0,
  });
};
