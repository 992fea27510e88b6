/**
 * `pve-ftp-backup doctor`: the preflight. For each cluster and node one line
 * per check (ok, warn or fail, with the fix), then the NAS. Read-only apart
 * from one probe file per node tree, written and removed at once. Exit 1 when
 * a check failed, 3 when nothing could be reached.
 */
import { loadCommandConfig } from './commandConfig.js';
import type { Command, DoctorOptions } from './types.js';

/** `doctor` as called by cli.ts. */
export const doctorCommand: Command<DoctorOptions> = async (options, ctx) => {
  const config = await loadCommandConfig(options, ctx);
  const { collectDoctor } = await import('../doctor/collect.js');
  const report = await collectDoctor({
    config,
    nodes: options.node,
    restore: options.restore,
    logger: ctx.logger,
    signal: ctx.signal,
    onSecret: (secret) => ctx.redactor.add(secret),
  });
  if (options.json) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else ctx.stdout.write((await import('../doctor/text.js')).doctorText(report));
  return report.exitCode;
};
