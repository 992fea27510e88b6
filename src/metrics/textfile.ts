/**
 * The Prometheus textfile written after every run (DESIGN.md "Knowing where
 * you stand"): when the last run ended and how, and per guest its last
 * success, archive size, duration and whether the last run saved it.
 *
 * Guests this run touched take their values from the report; the others keep
 * what the NAS manifests give, and a guest that failed keeps the time, size
 * and duration of its newest saved copy — so a failed night or a `--vmid` run
 * never makes a guest look newer or emptier than it is on the NAS.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunReport } from '../orchestrator/report.js';
import type { GuestResult, NodeResult } from '../orchestrator/types.js';
import { formatGauge, type GaugeFamily, type Sample } from './exposition.js';
import type { GuestFromManifests } from './fromManifests.js';

/** What the metrics read of a run report (the full RunReport satisfies it). */
export type MetricsReportLike = Pick<RunReport, 'startedAt' | 'finishedAt' | 'durationMs'> & {
  nodes: (Pick<NodeResult, 'cluster' | 'node'> & {
    guests: Pick<
      GuestResult,
      'vmid' | 'type' | 'name' | 'outcome' | 'archive' | 'durationMs' | 'finishedAt'
    >[];
  })[];
};

export interface MetricsInput {
  /** The run's report; absent when the run ended before it had one (early failure). */
  report?: MetricsReportLike;
  exitCode: number;
  /** When the run ended (the last-run timestamp). */
  now: Date;
  /** What the NAS manifests say about every guest (see guestsFromManifests). */
  guestsFromManifests: readonly GuestFromManifests[];
}

interface GuestRow {
  cluster: string;
  node: string;
  vmid: number;
  name: string;
  type: string;
  lastRunSuccess: boolean;
  lastSuccess?: { seconds: number; bytes: number; durationSeconds?: number };
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

/** Manifests first, then the report's guests over them (the report is newer). */
function guestRows(input: MetricsInput): GuestRow[] {
  const rows = new Map<string, GuestRow>();
  for (const g of input.guestsFromManifests) {
    const newest = g.newestSaved;
    const at = newest ? seconds(newest.time) : Number.NaN;
    rows.set(`${g.cluster}\0${g.vmid}`, {
      cluster: g.cluster,
      node: g.node,
      vmid: g.vmid,
      name: g.name,
      type: g.type,
      lastRunSuccess: g.lastRunSaved,
      ...(newest && !Number.isNaN(at)
        ? {
            lastSuccess: {
              seconds: at,
              bytes: newest.archiveBytes,
              ...(newest.durationSeconds !== undefined
                ? { durationSeconds: newest.durationSeconds }
                : {}),
            },
          }
        : {}),
    });
  }
  const report = input.report;
  for (const n of report?.nodes ?? []) {
    for (const g of n.guests) {
      const key = `${n.cluster}\0${g.vmid}`;
      const before = rows.get(key);
      const saved = g.outcome === 'saved';
      const row: GuestRow = {
        cluster: n.cluster,
        node: n.node,
        vmid: g.vmid,
        name: g.name ?? before?.name ?? '',
        type: g.type,
        lastRunSuccess: saved,
      };
      if (saved && report) {
        row.lastSuccess = {
          seconds: seconds(g.finishedAt ?? report.finishedAt),
          bytes: g.archive?.size ?? 0,
          ...(g.durationMs !== undefined ? { durationSeconds: g.durationMs / 1000 } : {}),
        };
      } else if (before?.lastSuccess) {
        row.lastSuccess = before.lastSuccess;
      }
      rows.set(key, row);
    }
  }
  return [...rows.values()].sort(
    (a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node) || a.vmid - b.vmid,
  );
}

/** The textfile's content (pure). */
export function renderMetrics(input: MetricsInput): string {
  const rows = guestRows(input);
  const labels = (r: GuestRow) => ({
    cluster: r.cluster,
    node: r.node,
    vmid: String(r.vmid),
    name: r.name,
    type: r.type,
  });
  const per = (value: (r: GuestRow) => number | undefined): Sample[] =>
    rows.flatMap((r) => {
      const v = value(r);
      return v === undefined ? [] : [{ labels: labels(r), value: v }];
    });
  const families: GaugeFamily[] = [
    {
      name: 'pve_ftp_backup_last_run_timestamp_seconds',
      help: 'When the last run of pve-ftp-backup ended (Unix time).',
      samples: [{ value: input.now.getTime() / 1000 }],
    },
    {
      name: 'pve_ftp_backup_last_run_exit_code',
      help: 'Exit code of the last run: 0 ok, 1 some guest failed, 2 config, 3 nothing done, 130 interrupted.',
      samples: [{ value: input.exitCode }],
    },
    {
      name: 'pve_ftp_backup_last_run_duration_seconds',
      help: 'How long the last run took.',
      samples: input.report ? [{ value: input.report.durationMs / 1000 }] : [],
    },
    {
      name: 'pve_ftp_backup_guest_last_success_timestamp_seconds',
      help: 'When the run that saved the newest copy of the guest on the NAS ended (Unix time).',
      samples: per((r) => r.lastSuccess?.seconds),
    },
    {
      name: 'pve_ftp_backup_guest_last_archive_bytes',
      help: 'Size of the newest saved archive of the guest.',
      samples: per((r) => r.lastSuccess?.bytes),
    },
    {
      name: 'pve_ftp_backup_guest_last_duration_seconds',
      help: 'How long the backup of the newest saved copy took (vzdump, upload, verification).',
      samples: per((r) => r.lastSuccess?.durationSeconds),
    },
    {
      name: 'pve_ftp_backup_guest_last_run_success',
      help: 'Whether the last run that included the guest saved it (1) or not (0).',
      samples: per((r) => (r.lastRunSuccess ? 1 : 0)),
    },
  ];
  return families.map(formatGauge).join('');
}

/** The textfile could not be written; the message names the file, the cause says why. */
export class MetricsWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsWriteError';
  }
}

/**
 * Writes the textfile the node_exporter way: a temp file in the same
 * directory (its name does not end in .prom, so the collector never reads
 * it half-written), flushed, then renamed over the old one.
 * @throws MetricsWriteError naming the file (the caller makes it a warning)
 */
export async function writeMetricsTextfile(path: string, input: MetricsInput): Promise<void> {
  const text = renderMetrics(input);
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const file = await open(temp, 'wx', 0o644);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new MetricsWriteError(
      `cannot write metrics textfile ${path}${code ? ` (${code})` : ''}`,
      {
        cause: err,
      },
    );
  }
}
