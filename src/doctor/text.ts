/**
 * The human rendering of a doctor report: a heading per cluster and for the
 * NAS, then one line per check, `NODE  STATUS  what was found: the fix`.
 */
import type { CheckGroup, DoctorReport } from './types.js';

function heading(g: CheckGroup): string {
  return g.kind === 'cluster' ? `cluster ${g.name}` : `NAS ${g.name}`;
}

export function doctorText(report: DoctorReport): string {
  const nodeWidth = Math.max(1, ...report.groups.map((g) => g.node.length));
  const out: string[] = [];
  let last = '';
  for (const g of report.groups) {
    const h = heading(g);
    if (h !== last) {
      if (out.length > 0) out.push('');
      out.push(h);
      last = h;
    }
    for (const l of g.lines) {
      const text = l.fix ? `${l.message}: ${l.fix}` : l.message;
      out.push(`  ${(g.node || '-').padEnd(nodeWidth)}  ${l.status.padEnd(4)}  ${text}`);
    }
  }
  const c = report.counts;
  out.push('', `${c.ok + c.warn + c.fail} check(s): ${c.ok} ok, ${c.warn} warn, ${c.fail} fail`);
  return `${out.join('\n')}\n`;
}
