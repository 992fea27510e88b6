/**
 * `pve-ftp-backup restore` (docs/contract.md#restore): checks the command
 * line, runs the five steps (src/restore/runRestore.ts) and prints what was
 * done. Exit 0 restored (or, dry run, would be); 1 the copy is missing, the
 * archive never came, or the restore task failed (the staging copy is kept);
 * 2 usage, or a refused target (exists without --force, running, locked);
 * 3 nothing could be read; 130 Ctrl-C while waiting for the archive.
 */
import { DURATION_FORMAT, parseDurationMs } from '../config/duration.js';
import { ConfigError } from '../errors.js';
import { formatBytes } from '../format.js';
import { loggerStderr, progress } from '../log/logger.js';
import { isNodeName, isStorageId } from '../pveApi/names.js';
import type { RestoreReport } from '../restore/runRestore.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, RestoreOptions } from './types.js';

const DEFAULT_TIMEOUT = '30m';

/** The checks on what was typed, each naming the flag. */
function checkOptions(o: RestoreOptions): { timeoutMs: number } {
  for (const [flag, value] of [
    ['--node', o.node],
    ['--to-node', o.toNode],
  ] as const) {
    if (value !== undefined && !isNodeName(value)) {
      throw new ConfigError(`${flag} ${value}: not a valid PVE node name`);
    }
  }
  if (o.storage !== undefined && !isStorageId(o.storage)) {
    throw new ConfigError(`--storage ${o.storage}: not a valid PVE storage id`);
  }
  const timeoutMs = parseDurationMs(o.timeout ?? DEFAULT_TIMEOUT);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new ConfigError(`--timeout ${o.timeout}: expected ${DURATION_FORMAT}`);
  }
  return { timeoutMs };
}

/** `restore` as called by cli.ts. */
export const restoreCommand: Command<RestoreOptions> = async (options, ctx) => {
  const { timeoutMs } = checkOptions(options);
  const config = await loadCommandConfig(options, ctx);
  const { runRestore } = await import('../restore/runRestore.js');
  const toNode = options.toNode ?? options.node;
  // With --json, stdout is the report: the command goes to stderr, still on its own line.
  const commandOut = options.json ? loggerStderr(ctx.logger, ctx.stderr) : ctx.stdout;
  const report = await runRestore({
    config,
    request: {
      node: options.node,
      vmid: options.vmid,
      ...(options.from !== undefined ? { from: options.from } : {}),
      toNode,
      toVmid: options.toVmid ?? options.vmid,
      ...(options.storage !== undefined ? { storage: options.storage } : {}),
      force: options.force,
      keepArchive: options.keepArchive,
      timeoutMs,
      dryRun: options.dryRun,
    },
    logger: ctx.logger,
    signal: ctx.signal,
    forceSignal: ctx.forceSignal,
    onSecret: (s) => ctx.redactor.add(s),
    onFetchCommand: (command) => {
      commandOut.write(
        `${options.json ? '' : `The archive is not on node ${toNode} yet. Run this there as root:\n`}${command}\n`,
      );
    },
    onWaiting: (text) => progress(ctx.logger, toNode, text),
    onProgress: (line) => progress(ctx.logger, toNode, line),
  }).finally(() => progress(ctx.logger, toNode, ''));
  ctx.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : restoreText(report));
  return report.exitCode;
};

/** What was (or, dry run, would be) done, a few lines. */
export function restoreText(r: RestoreReport): string {
  const s = r.source;
  const t = r.target;
  const out = [
    `${r.dryRun ? 'would restore' : 'restore'}: guest ${s.vmid} (${s.type} '${s.name}') of node ${s.node} from ${s.generation}, saved ${s.savedAt}: ${s.file} (${formatBytes(s.size)}${s.sha256 ? ', sha256 recorded' : ''})`,
    `  onto guest ${t.vmid} on node ${t.node} (cluster ${t.cluster}, PVE ${t.pveVersion}) as ${t.type}${t.storage ? `, disks on ${t.storage}` : ''}${t.overwrites ? `, overwriting the stopped ${t.overwrites.type} guest${t.overwrites.name ? ` '${t.overwrites.name}'` : ''}` : ''}`,
  ];
  if (r.dryRun) {
    out.push(
      r.staging.present
        ? `  ${r.staging.volid} is on node ${t.node} already`
        : `  ${r.staging.volid} is not on node ${t.node}: the restore would print this to run there, and wait:\n${r.staging.fetchCommand}`,
    );
  } else if (r.task?.ok) {
    out.push(
      `restored: guest ${t.vmid} on node ${t.node} (task ${r.task.exitstatus}); staging copy ${r.staging.copy}`,
    );
  } else if (r.task) {
    out.push(
      `FAILED: the restore of guest ${t.vmid} on node ${t.node} failed: ${r.task.errors.join('; ') || r.task.exitstatus}; staging copy ${r.staging.volid} kept`,
    );
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
