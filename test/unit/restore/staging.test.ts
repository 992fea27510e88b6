/**
 * Waiting for the fetched archive (src/restore/staging.ts): the fetch command
 * names another node's tree only when it is another node; the wait ends when
 * the volume is listed at its size, rides out a failed listing, stops at the
 * timeout (exit 1) or at Ctrl-C (exit 130), and refuses a different file of
 * that name.
 */
import { describe, expect, it } from 'vitest';
import { AppError, ExitCode, InterruptedError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { PveBackupVolume } from '../../../src/pveApi/index.js';
import { fetchCommand, waitForStaging } from '../../../src/restore/staging.js';

const FILE = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';
const VOLID = `ftp-staging:backup/${FILE}`;

/** A storage whose listings are given in turn (an Error is a failed request); the last one repeats. */
function storage(...answers: (PveBackupVolume[] | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    backupContent: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

const wait = (
  api: ReturnType<typeof storage>,
  o: { timeoutMs?: number; signal?: AbortSignal } = {},
) =>
  waitForStaging(api, {
    node: 'pve1',
    storage: 'ftp-staging',
    volid: VOLID,
    size: 1000,
    timeoutMs: o.timeoutMs ?? 5000,
    pollMs: 10,
    signal: o.signal ?? new AbortController().signal,
    logger: silentLogger(),
    onWaiting: () => {},
  });

describe('fetchCommand', () => {
  it('adds --from-node only for a copy from another node', () => {
    const o = { sourceNode: 'pve1', targetNode: 'pve1', generation: 'daily.0', file: FILE };
    expect(fetchCommand(o)).toBe(`/usr/local/lib/pve-ftp-backup/hook fetch daily.0 ${FILE}`);
    expect(fetchCommand({ ...o, targetNode: 'pve2' })).toBe(
      `/usr/local/lib/pve-ftp-backup/hook fetch --from-node pve1 daily.0 ${FILE}`,
    );
  });
});

describe('waitForStaging', () => {
  it('returns once the volume is listed at its size, riding out a failed listing', async () => {
    const api = storage([], new Error('596 timed out'), [{ volid: VOLID, size: 1000 }]);
    await expect(wait(api)).resolves.toBeGreaterThanOrEqual(0);
    expect(api.calls).toBe(3);
  });

  it('stops at the timeout with exit 1, nothing restored', async () => {
    const error = await wait(storage([]), { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).exitCode).toBe(ExitCode.partialFailure);
    expect((error as Error).message).toBe(
      `${VOLID} did not appear on node pve1 within 0 s; nothing restored`,
    );
  });

  it('stops at Ctrl-C with exit 130', async () => {
    const ctl = new AbortController();
    const waiting = wait(storage([]), { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 30);
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
  });

  it('refuses another file of that name (another size): not ours to delete', async () => {
    await expect(wait(storage([{ volid: VOLID, size: 999 }]))).rejects.toThrow(
      `storage ftp-staging on node pve1 holds ${FILE} at 999 bytes, the NAS copy has 1000: not that copy; remove it on the node first`,
    );
  });
});
