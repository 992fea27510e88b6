/**
 * The words of a notification (pure): a one-line title, a short body, and
 * ntfy's priority and tags by outcome. Titles stay ASCII because they travel
 * in HTTP headers; guest names and errors go in the body only.
 */
import type { RunReportLike } from './types.js';

/** How the run ended, as the notifications tell it. */
export type Outcome = 'ok' | 'failed' | 'nothing-done' | 'interrupted';

/** Exit code → outcome (codes of DESIGN.md: 0 ok, 1 some failed, 3 nothing done, 130 interrupted). */
export function outcomeOf(exitCode: number, interrupted: boolean): Outcome {
  if (interrupted || exitCode === 130) return 'interrupted';
  if (exitCode === 0) return 'ok';
  if (exitCode === 1) return 'failed';
  return 'nothing-done';
}

const TITLE: Record<Outcome, string> = {
  ok: 'backup OK',
  failed: 'backup FAILED',
  'nothing-done': 'backup did NOTHING',
  interrupted: 'backup INTERRUPTED',
};

/** ntfy priorities: 3 default, 4 high, 5 urgent (nothing was backed up at all). */
const PRIORITY: Record<Outcome, number> = { ok: 3, failed: 4, 'nothing-done': 5, interrupted: 4 };
/** ntfy tags that render as emoji, plus a plain word filters can match. */
const TAGS: Record<Outcome, string[]> = {
  ok: ['white_check_mark', 'backup-ok'],
  failed: ['warning', 'backup-failed'],
  'nothing-done': ['rotating_light', 'backup-failed'],
  interrupted: ['stop_sign', 'backup-interrupted'],
};

export function ntfyPriority(outcome: Outcome): number {
  return PRIORITY[outcome];
}
export function ntfyTags(outcome: Outcome): string[] {
  return TAGS[outcome];
}

/** `pve-ftp-backup: backup FAILED (exit 1): 3 saved, 1 failed` — ASCII only. */
export function notificationTitle(report: RunReportLike, exitCode: number): string {
  const s = report.summary;
  const outcome = outcomeOf(exitCode, report.interrupted);
  return `pve-ftp-backup: ${TITLE[outcome]} (exit ${exitCode}): ${s.saved} saved, ${s.failed} failed, ${s.notStarted} not started`;
}

const MAX_LISTED = 20;

/** Plain-text body: the title, then what went wrong, one line each (at most 20). */
export function notificationBody(report: RunReportLike, exitCode: number): string {
  const lines = [
    notificationTitle(report, exitCode),
    `run ${report.runId}, ${report.startedAt} to ${report.finishedAt}`,
  ];
  const problems: string[] = [];
  for (const c of report.clusterFailures)
    problems.push(`cluster ${c.cluster}: ${c.kind}: ${c.error}`);
  for (const n of report.nodes) {
    if (n.status === 'offline' || n.status === 'locked' || n.status === 'error')
      problems.push(`${n.cluster}/${n.node}: ${n.status}${n.reason ? `: ${n.reason}` : ''}`);
    for (const g of n.guests) {
      if (g.outcome === 'saved') continue;
      const name = g.name ? ` (${g.name})` : '';
      problems.push(
        `${n.cluster}/${n.node} ${g.vmid}${name}: ${g.outcome}${g.error ? `: ${g.error}` : ''}`,
      );
    }
  }
  lines.push(...problems.slice(0, MAX_LISTED));
  if (problems.length > MAX_LISTED) lines.push(`… and ${problems.length - MAX_LISTED} more`);
  return `${lines.join('\n')}\n`;
}
