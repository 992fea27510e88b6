/**
 * `pve-ftp-backup generations`: what is on the NAS, per node and generation
 * (manifest summary, files, sizes). FTP reads only; no API access needed.
 */
import { posix } from 'node:path';
import { ExitCode, errorMessage, PreflightError } from '../errors.js';
import { formatBytes } from '../format.js';
import { type GenerationInfo, listGenerations } from '../ftp/generations.js';
import { nodeLayout } from '../ftp/layout.js';
import { openNasSession } from '../ftp/session.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, GenerationsOptions } from './types.js';

export interface GenerationsReport {
  version: 1;
  dir: string;
  nodes: { node: string; generations: GenerationInfo[] }[];
}

/** `generations` as called by cli.ts. */
export const generationsCommand: Command<GenerationsOptions> = async (options, ctx) => {
  const config = await loadCommandConfig(options, ctx);
  let fs: Awaited<ReturnType<typeof openNasSession>>;
  try {
    fs = await openNasSession(config.ftp, ctx.logger, ctx.signal);
  } catch (error) {
    throw new PreflightError(
      `cannot reach the NAS ${config.ftp.host}:${config.ftp.port}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  try {
    const listed = (await fs.list(config.ftp.dir)) ?? [];
    const dirs = listed.filter((e) => e.type === 'dir').map((e) => e.name);
    const names = (options.node.length > 0 ? options.node : dirs).sort();
    const report: GenerationsReport = { version: 1, dir: config.ftp.dir, nodes: [] };
    for (const node of names) {
      let nodeDir: string;
      try {
        nodeDir = nodeLayout(config.ftp.dir, node).nodeDir;
      } catch {
        // Not a node name we could have written (e.g. other data in the dir): not ours.
        continue;
      }
      const generations = await listGenerations(fs, nodeDir);
      if (generations.length > 0 || options.node.includes(node))
        report.nodes.push({ node, generations });
    }
    if (options.json) {
      ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const out: string[] = [];
      for (const n of report.nodes) {
        out.push(`${posix.join(report.dir, n.node)}`);
        if (n.generations.length === 0) out.push('  (no generations)');
        for (const g of n.generations) {
          const guests = g.manifest?.guests.map((x) => `${x.vmid}:${x.status}`).join(' ') ?? '';
          const when = g.manifest?.finishedAt ?? '';
          out.push(
            `  ${g.name.padEnd(10)} ${when.padEnd(24)} ${String(g.files.length).padStart(3)} file(s) ${formatBytes(g.totalSize).padStart(10)}${g.incomplete ? '  INCOMPLETE' : ''}  ${guests}`,
          );
        }
      }
      ctx.stdout.write(`${out.join('\n')}\n`);
    }
    return ExitCode.ok;
  } finally {
    fs.close();
  }
};
