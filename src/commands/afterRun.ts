/**
 * What follows every `run` that got past its config (DESIGN: notifications
 * and metrics "at the end of every run, including one that failed early or
 * was interrupted"): the Prometheus textfile, then the notifications. Neither
 * can change the exit code; each failure is a warning in the log and in the
 * report. Bounded in time: after SIGTERM the whole run must end within 15 s,
 * so then each target gets a short bound and no retry delay.
 */
import type { Config } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { RunReport } from '../orchestrator/report.js';

export interface AfterRunInput {
  config: Config;
  /** Absent when the run failed before it had a report (an error reached the command). */
  report?: RunReport;
  exitCode: number;
  logger: Logger;
  /** SIGTERM (or a second Ctrl-C) came: keep to the 15 s promise. */
  hurried: boolean;
  now?: () => Date;
}

/** Per-target bound while hurried: the notifications run side by side, so this is their total. */
const HURRIED_TIMEOUT_MS = 3000;

/** The notify `/start` ping (healthchecks) once the config is good; warnings are logged. */
export async function announceStart(config: Config, logger: Logger): Promise<string[]> {
  if (!config.notify?.healthchecks) return [];
  const { pingStart } = await import('../notify/index.js');
  const warnings = await pingStart(config.notify, { logger });
  for (const w of warnings) logger.warn(w);
  return warnings;
}

/** Metrics then notifications; returns the warnings (already logged). */
export async function afterRun(o: AfterRunInput): Promise<string[]> {
  const warnings: string[] = [];
  const textfile = o.config.metrics?.textfile;
  if (textfile) {
    try {
      await writeMetrics(textfile, o);
    } catch (error) {
      warnings.push(`metrics textfile not written: ${errorMessage(error)}`);
    }
  }
  const notify = o.config.notify;
  if (notify && Object.keys(notify).length > 0 && o.report) {
    const { sendNotifications } = await import('../notify/index.js');
    warnings.push(
      ...(await sendNotifications(o.report, o.exitCode, notify, {
        logger: o.logger,
        ...(o.hurried ? { timeoutMs: HURRIED_TIMEOUT_MS, retryDelayMs: 0 } : {}),
      })),
    );
  }
  for (const w of warnings) o.logger.warn(w);
  return warnings;
}

/**
 * The textfile needs every guest's last values, not only this run's: a `--vmid`
 * run must not wipe the others. They come from the NAS manifests (read-only).
 */
async function writeMetrics(path: string, o: AfterRunInput): Promise<void> {
  const { guestsFromManifests, writeMetricsTextfile } = await import('../metrics/index.js');
  const { readNasTrees } = await import('../status/nasTrees.js');
  let trees: Awaited<ReturnType<typeof readNasTrees>>['trees'] = [];
  if (!o.hurried) {
    try {
      trees = (await readNasTrees(o.config.ftp, { logger: o.logger })).trees;
    } catch (error) {
      o.logger.warn(`metrics: the NAS manifests could not be read: ${errorMessage(error)}`);
    }
  }
  const clusterOf = new Map<string, string>();
  for (const n of o.report?.nodes ?? []) clusterOf.set(n.node, n.cluster);
  const single = o.config.clusters.length === 1 ? (o.config.clusters[0]?.name ?? '') : '';
  await writeMetricsTextfile(path, {
    ...(o.report ? { report: o.report } : {}),
    exitCode: o.exitCode,
    now: (o.now ?? (() => new Date()))(),
    guestsFromManifests: guestsFromManifests(
      trees.map((t) => ({
        ...t,
        // A manifest names its cluster; a tree of this config's only cluster is that one.
        cluster:
          t.generations.find((g) => g.manifest?.cluster)?.manifest?.cluster ??
          clusterOf.get(t.node) ??
          single,
      })),
    ),
  });
}
