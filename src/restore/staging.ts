/**
 * Step 3 of a restore (docs/contract.md#restore): the archive must be a backup
 * volume of the target node's staging storage, at the NAS copy's size, before
 * PVE can restore it. No API call can put it there
 * (docs/pve-facts.md#no-download), so when it is missing the tool prints the
 * one command that fetches it on the node and polls the storage until it
 * appears, the time runs out, or the admin presses Ctrl-C.
 */
import { AppError, ExitCode, errorMessage, InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../orchestrator/sleep.js';
import type { PveClient } from '../pveApi/index.js';

/** Where the node hook is installed (docs/contract.md#the-node-hook; the README's install steps). */
export const HOOK_PATH = '/usr/local/lib/pve-ftp-backup/hook';

/** The command that fetches `file` of `generation` in `sourceNode`'s tree onto `targetNode`. */
export function fetchCommand(o: {
  sourceNode: string;
  targetNode: string;
  generation: string;
  file: string;
}): string {
  const from = o.sourceNode === o.targetNode ? '' : ` --from-node ${o.sourceNode}`;
  return `${HOOK_PATH} fetch${from} ${o.generation} ${o.file}`;
}

export type StagingState = 'present' | 'absent';

/**
 * Whether the storage lists the volume at `size`. Another file of that name
 * (another size) is an error: it is not ours to delete, and fetch will not
 * overwrite it.
 */
export async function stagingState(
  api: Pick<PveClient, 'backupContent'>,
  o: { node: string; storage: string; volid: string; size: number; signal?: AbortSignal },
): Promise<StagingState> {
  const file = o.volid.slice(o.volid.indexOf('/') + 1);
  const row = (await api.backupContent(o.node, o.storage, o.signal)).find(
    (v) => v.volid === o.volid || v.volid === `${o.storage}:${file}`,
  );
  if (!row) return 'absent';
  if (row.size !== o.size) {
    throw new AppError(
      `storage ${o.storage} on node ${o.node} holds ${file} at ${row.size} bytes, the NAS copy has ${o.size}: not that copy; remove it on the node first`,
      ExitCode.partialFailure,
    );
  }
  return 'present';
}

/**
 * Polls until the volume is there. A timeout is exit 1 (nothing restored);
 * Ctrl-C (`signal`) stops waiting, exit 130, nothing changed.
 */
export async function waitForStaging(
  api: Pick<PveClient, 'backupContent'>,
  o: {
    node: string;
    storage: string;
    volid: string;
    size: number;
    timeoutMs: number;
    pollMs: number;
    signal: AbortSignal;
    logger: Logger;
    onWaiting: (waitedMs: number) => void;
  },
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const waited = Date.now() - started;
    if (waited >= o.timeoutMs) {
      throw new AppError(
        `${o.volid} did not appear on node ${o.node} within ${Math.round(o.timeoutMs / 1000)} s; nothing restored`,
        ExitCode.partialFailure,
      );
    }
    o.onWaiting(waited);
    try {
      await sleep(Math.min(o.pollMs, o.timeoutMs - waited), o.signal);
    } catch {
      throw new InterruptedError(`stopped waiting for ${o.volid}; nothing changed`);
    }
    let state: StagingState | undefined;
    try {
      state = await stagingState(api, { ...o, signal: o.signal });
    } catch (error) {
      if (o.signal.aborted) {
        throw new InterruptedError(`stopped waiting for ${o.volid}; nothing changed`);
      }
      if (error instanceof AppError) throw error;
      // A listing that failed (the client already retried) is asked again next time.
      o.logger.warn(
        `listing storage ${o.storage} on node ${o.node} failed: ${errorMessage(error)}`,
      );
    }
    if (state === 'present') return Date.now() - started;
  }
}
