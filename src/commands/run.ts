/**
 * `pve-ftp-backup run`: load the config, then either the dry-run plan or the
 * real run; the report goes to stdout as JSON with --json, a summary table to
 * stderr always. Returns the exit code of docs/contract.md#exit-codes.
 */
import { ExitCode, exitCodeFor } from '../errors.js';
import { progress } from '../log/logger.js';
import { formatReportText, type RunReport } from '../orchestrator/report.js';
import type { RunBackupOptions } from '../orchestrator/runBackup.js';
import { afterRun, announceStart } from './afterRun.js';
import { loadCommandConfig } from './commandConfig.js';
import { formatDryRun } from './dryRunText.js';
import type { Command, CommandContext, RunOptions } from './types.js';

/** Test/bench knobs for the run (not reachable from the command line). */
export type RunTuning = RunBackupOptions['tuning'];

/** The `run` command with optional tuning (the demo and bench use it in-process). */
export async function runWith(
  options: RunOptions,
  ctx: CommandContext,
  tuning?: RunTuning,
): Promise<number> {
  return (await executeRun(options, ctx, tuning)).exitCode;
}

/** Like {@link runWith}, also handing back the report of a real (not dry) run. */
export async function executeRun(
  options: RunOptions,
  ctx: CommandContext,
  tuning?: RunTuning,
): Promise<{ exitCode: number; report?: RunReport }> {
  const config = await loadCommandConfig(options, ctx);
  // The orchestrator (undici, basic-ftp) loads once the config is good: a config error is quick.
  // The API clients tell every ticket and CSRF token they come to use.
  const onSecret = (secret: string) => ctx.redactor.add(secret);
  if (options.dryRun) {
    const { planDryRun } = await import('../orchestrator/dryRun.js');
    const report = await planDryRun({
      config,
      nodes: options.node,
      vmids: options.vmid,
      ...(options.guests ? { guests: options.guests } : {}),
      rotate: !options.noRotate,
      logger: ctx.logger,
      signal: ctx.signal,
      onSecret,
      ...(tuning?.client ? { client: tuning.client } : {}),
    });
    ctx.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatDryRun(report));
    return { exitCode: report.exitCode };
  }
  await announceStart(config, ctx.logger);
  const { runBackup } = await import('../orchestrator/runBackup.js');
  let report: RunReport;
  try {
    report = await runBackup({
      config,
      nodes: options.node,
      vmids: options.vmid,
      ...(options.guests ? { guests: options.guests } : {}),
      rotate: !options.noRotate,
      breakLock: options.breakLock,
      logger: ctx.logger,
      signal: ctx.signal,
      forceSignal: ctx.forceSignal,
      onProgress: (node, line) => progress(ctx.logger, node, line),
      onSecret,
      ...(tuning ? { tuning } : {}),
    });
  } catch (error) {
    // Failed before there was a report (e.g. a setting the cluster's version cannot do):
    // monitoring still hears of it, then the error takes its usual way to the exit code.
    const exitCode = exitCodeFor(error, ctx.signal.aborted) ?? ExitCode.partialFailure;
    await afterRun({ config, exitCode, logger: ctx.logger, hurried: ctx.forceSignal.aborted });
    throw error;
  }
  const warnings = await afterRun({
    config,
    report,
    exitCode: report.exitCode,
    logger: ctx.logger,
    hurried: ctx.forceSignal.aborted,
  });
  if (warnings.length > 0) report.warnings = warnings;
  ctx.stderr.write(formatReportText(report));
  if (options.json) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return { exitCode: report.exitCode, report };
}

/** `run` as called by cli.ts. */
export const runCommand: Command<RunOptions> = (options, ctx) => runWith(options, ctx);
