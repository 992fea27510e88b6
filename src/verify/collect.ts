/**
 * `verify` across the node trees: one FTP session per tree, a few trees at
 * once (fewer when reading archives back: each one is a full-speed stream).
 * A tree that cannot be read is reported; the NAS unreachable is an error.
 */
import type { FtpConfig } from '../config/index.js';
import { ExitCode, errorMessage, PreflightError } from '../errors.js';
import { nodeLayout } from '../ftp/layout.js';
import { type NasSession, openNasSession } from '../ftp/session.js';
import type { Logger } from '../log.js';
import { runPool } from '../orchestrator/pool.js';
import { type FileVerdict, verifyTree } from './verifyTree.js';

export interface VerifyReport {
  version: 1;
  deep: boolean;
  generation: string;
  nodes: { node: string; generations: string[]; problem?: string }[];
  /** Every file checked, problems first. */
  files: FileVerdict[];
  summary: {
    files: number;
    ok: number;
    withProblems: number;
    /** Deep: bytes read back, and the rate over the time spent reading. */
    bytesRead: number;
    mbPerSecond?: number;
  };
  exitCode: number;
}

export interface CollectVerifyOptions {
  ftp: FtpConfig;
  nodes: string[];
  vmids: number[];
  generation?: string;
  deep: boolean;
  logger: Logger;
  signal?: AbortSignal;
  onProgress?: (node: string, file: string, bytes: number, total: number) => void;
  openSession?: (ftp: FtpConfig, logger: Logger, signal?: AbortSignal) => Promise<NasSession>;
}

export async function collectVerify(o: CollectVerifyOptions): Promise<VerifyReport> {
  const open = o.openSession ?? openNasSession;
  let names = o.nodes;
  if (names.length === 0) {
    let first: NasSession;
    try {
      first = await open(o.ftp, o.logger, o.signal);
    } catch (error) {
      throw new PreflightError(`cannot reach the NAS: ${errorMessage(error)}`, { cause: error });
    }
    try {
      names = ((await first.list(o.ftp.dir)) ?? [])
        .filter((e) => e.type === 'dir')
        .map((e) => e.name)
        .filter((n) => {
          try {
            nodeLayout(o.ftp.dir, n);
            return true;
          } catch {
            return false; // not a node tree of ours
          }
        });
    } finally {
      first.close();
    }
  }
  names = [...names].sort();
  const results = await runPool(names, o.deep ? 2 : 4, async (node) => {
    const fs = await open(o.ftp, o.logger.child({ node }), o.signal);
    try {
      return await verifyTree(fs, nodeLayout(o.ftp.dir, node).nodeDir, node, {
        ...(o.generation ? { generation: o.generation } : {}),
        vmids: o.vmids,
        deep: o.deep,
        onProgress: (file, bytes, total) => o.onProgress?.(node, file, bytes, total),
      });
    } finally {
      fs.close();
    }
  });
  const report: VerifyReport = {
    version: 1,
    deep: o.deep,
    generation: o.generation ?? 'all',
    nodes: [],
    files: [],
    summary: { files: 0, ok: 0, withProblems: 0, bytesRead: 0 },
    exitCode: ExitCode.ok,
  };
  let seconds = 0;
  results.forEach((r, i) => {
    const node = names[i] ?? '';
    if (!r.ok) {
      report.nodes.push({ node, generations: [], problem: errorMessage(r.error) });
      return;
    }
    report.nodes.push({ node, generations: r.value.generations });
    report.files.push(...r.value.files.map((f) => ({ ...f, node })));
    for (const f of r.value.files) {
      report.summary.bytesRead += f.bytes ?? 0;
      seconds += f.seconds ?? 0;
    }
  });
  if (results.every((r) => !r.ok) && results.length > 0) {
    throw new PreflightError(
      `no node tree could be read: ${report.nodes.map((n) => `${n.node}: ${n.problem}`).join('; ')}`,
    );
  }
  report.files.sort((a, b) => Number(a.ok) - Number(b.ok));
  report.summary.files = report.files.length;
  report.summary.ok = report.files.filter((f) => f.ok).length;
  report.summary.withProblems = report.summary.files - report.summary.ok;
  if (o.deep && seconds > 0) {
    report.summary.mbPerSecond = Math.round(report.summary.bytesRead / 1e6 / seconds);
  }
  const wrong = report.summary.withProblems > 0 || report.nodes.some((n) => n.problem);
  report.exitCode = wrong ? ExitCode.partialFailure : ExitCode.ok;
  return report;
}
