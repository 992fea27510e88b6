/**
 * `pve-ftp-backup verify`: check the NAS against the manifests (shallow), or
 * read every archive back (--deep). Read-only. Exit 1 when a file fails.
 */
import { ConfigError } from '../errors.js';
import { formatBytes } from '../format.js';
import { progress } from '../log/logger.js';
import type { VerifyReport } from '../verify/collect.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, VerifyOptions } from './types.js';

const GENERATION = /^(all|(daily|weekly|monthly)\.(0|[1-9]\d{0,3}))$/;

/** `verify` as called by cli.ts. */
export const verifyCommand: Command<VerifyOptions> = async (options, ctx) => {
  if (options.generation !== undefined && !GENERATION.test(options.generation)) {
    throw new ConfigError(
      `--generation ${options.generation}: expected all, daily.N, weekly.N or monthly.N`,
    );
  }
  const config = await loadCommandConfig(options, ctx);
  const { collectVerify } = await import('../verify/collect.js');
  const report = await collectVerify({
    ftp: config.ftp,
    nodes: options.node,
    vmids: options.vmid,
    ...(options.generation ? { generation: options.generation } : {}),
    deep: options.deep,
    logger: ctx.logger,
    signal: ctx.signal,
    onProgress: (node, file, bytes, total) => {
      const pct = total > 0 ? Math.floor((bytes / total) * 100) : 0;
      progress(ctx.logger, node, `reading back ${file}: ${pct}% of ${formatBytes(total)}`);
    },
  });
  for (const n of report.nodes) progress(ctx.logger, n.node, '');
  ctx.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : verifyText(report));
  return report.exitCode;
};

/** Problems first, one line each naming node, generation and file; then the counts. */
export function verifyText(report: VerifyReport): string {
  const out: string[] = [];
  for (const n of report.nodes) if (n.problem) out.push(`${n.node}: cannot read: ${n.problem}`);
  for (const f of report.files.filter((x) => !x.ok)) {
    const where = `${f.node ?? ''}/${f.generation}/${f.name}`;
    for (const p of f.problems) out.push(`FAIL ${where}: ${p}`);
  }
  const s = report.summary;
  const deep = report.deep
    ? `; ${formatBytes(s.bytesRead)} read back${s.mbPerSecond !== undefined ? ` at ${s.mbPerSecond} MB/s` : ''}`
    : '';
  out.push(
    `${s.files} file(s) checked${report.deep ? ' deep' : ''} on ${report.nodes.length} node(s): ${s.ok} ok, ${s.withProblems} with problems${deep}`,
  );
  return `${out.join('\n')}\n`;
}
