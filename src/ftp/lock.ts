/**
 * The node lock `{dir}/{node}/.lock`: two runs must never both believe they
 * hold it. FTP has no exclusive file create, but MKD of an existing directory
 * fails on every server we support, atomically; so the lock is a directory,
 * and inside it `holder.json` says who holds it, with a random token the
 * holder writes and reads back (it proves the lock is still ours at release).
 *
 * A lock that is held is never taken silently: the caller gets the holder
 * and a message naming `--break-lock`. Whether the holder still runs can
 * only be known when it ran on this host (its pid); elsewhere the age is
 * reported and the admin decides.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { joinRemote, LOCK_HOLDER_NAME } from './layout.js';
import type { RemoteFs } from './remoteFs.js';

/** Who holds a lock. */
export interface LockInfo {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
}

const Holder = z.object({
  runId: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  token: z.string(),
});
type Holder = z.infer<typeof Holder>;

/** What the lock needs of a RemoteFs. */
export type LockFs = Pick<
  RemoteFs,
  'list' | 'mkdirp' | 'mkdirExclusive' | 'removeDir' | 'removeFile' | 'readText' | 'writeText'
>;

export type LockResult =
  | { acquired: true; release(): Promise<void> }
  | {
      acquired: false;
      /** The holder, when its file could be read. */
      holder?: LockInfo;
      /** True when the holder provably no longer runs (same host, pid gone). */
      stale?: boolean;
      message: string;
    };

export interface LockOptions {
  /** Clear an existing lock first (the admin's `--break-lock`). */
  breakLock: boolean;
  /** Where breaking and odd releases are reported. */
  logger?: Logger;
  /** Name of this host, to tell whether a holder's pid can be checked here. */
  localHost?: string;
}

async function readHolder(fs: LockFs, lockPath: string): Promise<Holder | undefined> {
  try {
    const text = await fs.readText(joinRemote(lockPath, LOCK_HOLDER_NAME));
    if (text === undefined) return undefined;
    const parsed = Holder.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    // A holder file that is not JSON reads as "unknown holder"; FTP failures propagate.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Whether a pid runs on this machine (EPERM: it runs, under another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function info(h: Holder): LockInfo {
  return { runId: h.runId, host: h.host, pid: h.pid, startedAt: h.startedAt };
}

/** Remove a lock whatever its shape (our directory, or a plain file someone left). */
async function clearLock(fs: LockFs, lockPath: string): Promise<void> {
  if ((await fs.list(lockPath)) !== undefined) await fs.removeDir(lockPath);
  else await fs.removeFile(lockPath);
}

function heldResult(
  lockPath: string,
  holder: Holder | undefined,
  me: LockInfo,
  localHost: string,
): LockResult {
  const clear = 'if no run is active on that node, clear it with --break-lock';
  if (holder === undefined) {
    return {
      acquired: false,
      message:
        `node lock ${lockPath} exists but names no holder (a run is just taking it, ` +
        `or one was killed while taking it); ${clear}`,
    };
  }
  const who = `run ${holder.runId} (host ${holder.host}, pid ${holder.pid}, since ${holder.startedAt})`;
  if (holder.host === localHost && holder.pid !== me.pid && !pidAlive(holder.pid)) {
    return {
      acquired: false,
      holder: info(holder),
      stale: true,
      message: `node lock ${lockPath} is stale: ${who} no longer runs on this host; clear it with --break-lock`,
    };
  }
  return {
    acquired: false,
    holder: info(holder),
    message: `node lock ${lockPath} is held by ${who}; ${clear}`,
  };
}

/**
 * Take the lock at `lockPath` (its parent is created when missing). On
 * success, `release()` removes it only if it still carries our token.
 */
export async function acquireLock(
  fs: LockFs,
  lockPath: string,
  me: LockInfo,
  options: LockOptions,
): Promise<LockResult> {
  const localHost = options.localHost ?? me.host;
  const parent = lockPath.slice(0, lockPath.lastIndexOf('/')) || '/';
  await fs.mkdirp(parent);

  let created = await fs.mkdirExclusive(lockPath);
  if (!created) {
    const holder = await readHolder(fs, lockPath);
    if (!options.breakLock) return heldResult(lockPath, holder, me, localHost);
    options.logger?.warn('breaking node lock on --break-lock', {
      lock: lockPath,
      holder: holder ? info(holder) : 'unknown',
    });
    await clearLock(fs, lockPath);
    created = await fs.mkdirExclusive(lockPath);
    if (!created) {
      return heldResult(lockPath, await readHolder(fs, lockPath), me, localHost);
    }
  }

  const token = randomUUID();
  const mine: Holder = { ...me, token };
  let back: Holder | undefined;
  try {
    await fs.writeText(
      joinRemote(lockPath, LOCK_HOLDER_NAME),
      `${JSON.stringify(mine, null, 2)}\n`,
    );
    // Read back: if someone broke our fresh lock and took it in between, the token differs.
    back = await readHolder(fs, lockPath);
  } catch (error) {
    // We created the directory: an error must not leave it behind, or every later run is
    // refused ("names no holder") until the admin breaks it. Never remove someone else's.
    try {
      const now = await readHolder(fs, lockPath);
      if (now === undefined || now.token === token) await clearLock(fs, lockPath);
    } catch (cleanup) {
      options.logger?.warn('could not remove the node lock after failing to take it', {
        lock: lockPath,
        error: errorMessage(cleanup),
      });
    }
    throw error;
  }
  if (back?.token !== token) return heldResult(lockPath, back, me, localHost);

  let released = false;
  return {
    acquired: true,
    async release() {
      if (released) return;
      released = true;
      const now = await readHolder(fs, lockPath);
      if (now?.token !== token) {
        options.logger?.warn('node lock is no longer ours; leaving it', {
          lock: lockPath,
          holder: now ? info(now) : 'unknown',
        });
        return;
      }
      await fs.removeDir(lockPath);
    },
  };
}
