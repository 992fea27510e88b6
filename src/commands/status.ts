/**
 * `pve-ftp-backup status`: every guest of the clusters and its newest saved
 * copy on the NAS (coverage), with a verdict per guest; exit 1 when a selected
 * guest has no fresh copy. Read-only: API GETs and FTP reads.
 */
import { DURATION_FORMAT, parseDurationSeconds } from '../config/duration.js';
import { ConfigError } from '../errors.js';
import { formatBytes, formatTable } from '../format.js';
import type { StatusReport } from '../status/collect.js';
import type { CoverageRow } from '../status/coverage.js';
import type { StatusPageLastRun } from '../status/html.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, StatusOptions } from './types.js';

/** `status.maxAge`'s default, for a Config built by hand (the loader always sets it). */
const DEFAULT_MAX_AGE_SECONDS = 26 * 3600;

/** `status` as called by cli.ts. */
export const statusCommand: Command<StatusOptions> = async (options, ctx) => {
  const config = await loadCommandConfig(options, ctx);
  let maxAgeSeconds = config.status?.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (options.maxAge !== undefined) {
    const parsed = parseDurationSeconds(options.maxAge);
    if (parsed === undefined) {
      throw new ConfigError(`--max-age ${options.maxAge}: expected ${DURATION_FORMAT}`);
    }
    maxAgeSeconds = parsed;
  }
  const { collectStatus } = await import('../status/collect.js');
  const report = await collectStatus({
    config,
    filters: {
      nodes: options.node,
      vmids: options.vmid,
      ...(options.guests ? { guests: options.guests } : {}),
    },
    maxAgeSeconds,
    logger: ctx.logger,
    signal: ctx.signal,
    onSecret: (secret) => ctx.redactor.add(secret),
  });
  if (options.html !== undefined) {
    await writeStatusPage(options.html, report);
    ctx.logger.info(`status page written to ${options.html}`);
  }
  ctx.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : statusText(report));
  return report.exitCode;
};

/** The self-contained status page (src/status/html.ts) of a report, written to `path`. */
export async function writeStatusPage(
  path: string,
  report: StatusReport,
  lastRun?: StatusPageLastRun,
): Promise<void> {
  const { renderStatusPage } = await import('../status/html.js');
  const { writeFile } = await import('node:fs/promises');
  const html = renderStatusPage({
    rows: report.rows,
    generatedAt: new Date(report.generatedAt),
    ...(lastRun ? { lastRun } : {}),
  });
  await writeFile(path, html, { mode: 0o644 });
}

const age = (seconds: number): string =>
  seconds < 3600
    ? `${Math.round(seconds / 60)}m`
    : seconds < 172_800
      ? `${Math.round(seconds / 3600)}h`
      : `${Math.round(seconds / 86_400)}d`;

function rowCells(r: CoverageRow): string[] {
  return [
    r.node,
    String(r.vmid),
    r.name || '-',
    r.type,
    r.state,
    r.verdict.toUpperCase(),
    r.newest ? `${r.newest.generation}${r.newest.node !== r.node ? `@${r.newest.node}` : ''}` : '-',
    r.newest ? age(r.newest.ageSeconds) : '-',
    r.newest ? formatBytes(r.newest.size) : '-',
    r.newest ? (r.newest.hasSha256 ? 'yes' : 'no') : '-',
    String(r.copies),
    r.reason ?? '',
  ];
}

/** The human rendering: one line per guest, then what could not be read, then the counts. */
export function statusText(report: StatusReport): string {
  const header = [
    'NODE',
    'VMID',
    'NAME',
    'TYPE',
    'STATE',
    'VERDICT',
    'NEWEST',
    'AGE',
    'SIZE',
    'SHA256',
    'COPIES',
    'NOTE',
  ];
  const out = [formatTable([header, ...report.rows.map(rowCells)])];
  for (const f of report.clusterFailures)
    out.push(`cluster ${f.cluster}: cannot read (${f.kind}): ${f.error}`);
  for (const p of report.nasProblems)
    out.push(`NAS${p.node ? ` tree ${p.node}` : ''}: ${p.problem}`);
  const c = report.counts;
  out.push(
    `${report.rows.length} guest(s): ${c.ok} ok, ${c.stale} stale, ${c.missing} missing, ${c.gone} gone, ${c.unselected} unselected (max age ${age(report.maxAgeSeconds)})`,
  );
  return `${out.join('\n')}\n`;
}
