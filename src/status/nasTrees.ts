/**
 * Reads the node trees on the NAS for `status`: every node directory under
 * `ftp.dir` (or the ones asked for), each over a session of its own, several
 * at once, so a NAS of 100 nodes × 10 generations is read in seconds. A tree
 * that cannot be read is reported, never fatal for the others. Read-only.
 */
import type { FtpConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { listGenerations } from '../ftp/generations.js';
import { nodeLayout } from '../ftp/layout.js';
import { type NasSession, openNasSession } from '../ftp/session.js';
import type { Logger } from '../log.js';
import { runPool } from '../orchestrator/pool.js';
import type { NodeTree } from './coverage.js';

export interface NasTrees {
  trees: NodeTree[];
  /** Node trees that could not be read, with why. */
  problems: { node: string; problem: string }[];
}

export interface ReadTreesOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** Only these node trees (default: every node directory under ftp.dir). */
  nodes?: string[];
  /** Sessions at once (a cheap NAS limits connections per client). */
  concurrency?: number;
  openSession?: (ftp: FtpConfig, logger: Logger, signal?: AbortSignal) => Promise<NasSession>;
}

/**
 * @throws NasError when the NAS cannot be reached or `ftp.dir` cannot be listed
 *   (then nothing at all could be read).
 */
export async function readNasTrees(ftp: FtpConfig, o: ReadTreesOptions): Promise<NasTrees> {
  const open = o.openSession ?? openNasSession;
  let names = o.nodes;
  if (names === undefined || names.length === 0) {
    const first = await open(ftp, o.logger, o.signal);
    try {
      const listed = (await first.list(ftp.dir)) ?? [];
      names = listed.filter((e) => e.type === 'dir').map((e) => e.name);
    } finally {
      first.close();
    }
  }
  const valid = names
    .filter((node) => {
      try {
        nodeLayout(ftp.dir, node);
        return true;
      } catch {
        // Not a node name we could have written (other data in the dir): not ours.
        return false;
      }
    })
    .sort();
  const results = await runPool(valid, Math.max(1, o.concurrency ?? 8), async (node) => {
    const session = await open(ftp, o.logger.child({ node }), o.signal);
    try {
      return {
        node,
        generations: await listGenerations(session, nodeLayout(ftp.dir, node).nodeDir),
      };
    } finally {
      session.close();
    }
  });
  const out: NasTrees = { trees: [], problems: [] };
  results.forEach((r, i) => {
    const node = valid[i] ?? '';
    if (r.ok) out.trees.push(r.value);
    else out.problems.push({ node, problem: errorMessage(r.error) });
  });
  return out;
}
