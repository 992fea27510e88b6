/** The human rendering of a dry-run report (`run --dry-run` without --json). */
import { formatBytes } from '../format.js';
import type { DryRunReport } from '../orchestrator/dryRun.js';

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
    for (const r of n.promotes) out.push(`  promote: ${r.from} -> ${r.to}`);
    for (const r of n.removes) out.push(`  delete: ${r}`);
    for (const r of n.retainedPastKeep) out.push(`  keep past retention: ${r.name}: ${r.reason}`);
  }
  return `${out.join('\n')}\n`;
}
