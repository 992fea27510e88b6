/**
 * The run report (pure): node results → one document with a summary, the exit
 * code rule of docs/contract.md#exit-codes, a JSON rendering for `--json` and a plain table for
 * stderr. No I/O here: the commands decide where each goes.
 */
import { outcomeExitCode } from '../errors.js';
import { formatBytes, formatDuration, formatTable } from '../format.js';
import type { ClusterFailure, NodeResult } from './types.js';

export interface RunSummary {
  nodes: number;
  /** Nodes that could not be done (offline, locked, error) — counted like failed guests. */
  nodesNotDone: number;
  guestsSelected: number;
  saved: number;
  failed: number;
  notStarted: number;
  warnings: number;
  /** Bytes of archives verified on the NAS in this run. */
  bytesSaved: number;
}

export interface RunReport {
  version: 1;
  runId: string;
  dryRun: false;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  interrupted: boolean;
  exitCode: number;
  summary: RunSummary;
  /** Clusters that could not be reached or authenticated. */
  clusterFailures: ClusterFailure[];
  nodes: NodeResult[];
  /** Problems after the run that do not change the exit code (metrics, notifications). */
  warnings?: string[];
}

export interface ReportInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  nodes: NodeResult[];
  clusterFailures: ClusterFailure[];
}

/** Count what the run did. */
export function summarize(nodes: readonly NodeResult[]): RunSummary {
  const guests = nodes.flatMap((n) => n.guests);
  return {
    nodes: nodes.length,
    nodesNotDone: nodes.filter((n) => isNodeNotDone(n)).length,
    guestsSelected: guests.length,
    saved: guests.filter((g) => g.outcome === 'saved').length,
    failed: guests.filter((g) => g.outcome === 'failed').length,
    notStarted: guests.filter((g) => g.outcome === 'not-started').length,
    warnings:
      guests.reduce((sum, g) => sum + g.warnings.length, 0) +
      nodes.reduce((sum, n) => sum + n.warnings.length, 0),
    bytesSaved: guests
      .filter((g) => g.outcome === 'saved')
      .reduce((sum, g) => sum + (g.archive?.size ?? 0), 0),
  };
}

function isNodeNotDone(n: NodeResult): boolean {
  return n.status === 'offline' || n.status === 'locked' || n.status === 'error';
}

/**
 * The exit code (docs/contract.md#exit-codes): 130 interrupted; 0 when every selected guest was saved
 * and every node done; 1 when something failed but the run did real work
 * (a guest saved, or a backup attempted and failed); 3 when nothing could be
 * done at all (auth/TLS/network failures, offline or locked nodes only).
 */
export function runExitCode(input: {
  interrupted: boolean;
  nodes: readonly NodeResult[];
  clusterFailures: readonly ClusterFailure[];
}): number {
  const s = summarize(input.nodes);
  return outcomeExitCode({
    interrupted: input.interrupted,
    problems: s.failed + s.notStarted + s.nodesNotDone + input.clusterFailures.length,
    didWork: s.saved > 0 || s.failed > 0,
  });
}

/** Assemble the report document. */
export function buildReport(input: ReportInput): RunReport {
  return {
    version: 1,
    runId: input.runId,
    dryRun: false,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    interrupted: input.interrupted,
    exitCode: runExitCode(input),
    summary: summarize(input.nodes),
    clusterFailures: input.clusterFailures,
    nodes: input.nodes,
  };
}

/** The human summary written to stderr at the end of a run. */
export function formatReportText(report: RunReport): string {
  const out: string[] = [];
  const s = report.summary;
  out.push(
    `run ${report.runId}: ${s.saved} saved, ${s.failed} failed, ${s.notStarted} not started` +
      ` on ${s.nodes} node(s) in ${formatDuration(report.durationMs)}` +
      ` (${formatBytes(s.bytesSaved)})${report.interrupted ? ' — INTERRUPTED' : ''}`,
  );
  for (const c of report.clusterFailures)
    out.push(`cluster ${c.cluster}: ${c.kind} failure: ${c.error}`);
  const rows: string[][] = [['NODE', 'VMID', 'NAME', 'RESULT', 'SIZE', 'TIME', 'NOTE']];
  for (const n of report.nodes) {
    if (n.status !== 'done') {
      rows.push([n.node, '-', '-', n.status, '', '', n.reason ?? '']);
    }
    for (const g of n.guests) {
      rows.push([
        n.node,
        String(g.vmid),
        g.name ?? '',
        g.outcome,
        g.archive ? formatBytes(g.archive.size) : '',
        g.durationMs !== undefined ? formatDuration(g.durationMs) : '',
        g.error ?? (g.warnings.length > 0 ? `${g.warnings.length} warning(s)` : ''),
      ]);
    }
  }
  if (rows.length > 1) out.push(formatTable(rows));
  for (const n of report.nodes) {
    if (n.skipped.length > 0) {
      out.push(
        `${n.node}: not selected: ${n.skipped.map((s) => `${s.vmid} (${s.reason})`).join(', ')}`,
      );
    }
  }
  for (const n of report.nodes) {
    for (const p of n.rotation?.promoted ?? [])
      out.push(`${n.node}: promoted ${p.from} to ${p.to}`);
    for (const r of n.rotation?.retainedPastKeep ?? []) {
      out.push(`${n.node}: kept ${r.name} past retention: ${r.reason}`);
    }
    for (const w of n.warnings) out.push(`${n.node}: warning: ${w}`);
    for (const g of n.guests)
      for (const w of g.warnings) out.push(`${n.node}/${g.vmid}: warning: ${w}`);
  }
  for (const w of report.warnings ?? []) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
