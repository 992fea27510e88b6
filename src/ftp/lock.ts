/**
 * The node lock `{dir}/{node}/.lock`: two runs must never both believe they
 * hold it. FTP has no exclusive file create, but MKD of an existing directory
 * fails on every server we support, atomically; so the lock is a directory,
 * and inside it `holder.json` says who holds it, with a random token the
 * holder writes and reads back (it proves the lock is still ours).
 *
 * The lock is a lease (DESIGN.md "Layout on the NAS"): the holder rewrites
 * holder.json while it runs (`renew()`); a lock whose newest file was not
 * written for `leaseMs` is stale and taken over with a warning naming the old
 * holder. Age is measured by the NAS's own clock only: the file time of a
 * probe this run just wrote minus the file time of what the holder last wrote
 * in `.lock/`, so clocks of different hosts never matter, and a holder file of
 * an older or unknown format is judged the same way.
 *
 * Takeover without a window: the taker MKDs `.lock/takeover-<old holder's
 * token>-<NAS time of the newest file it judged>`, which only one racer can
 * create; the loser reports the lock held. The winner then writes its own
 * holder.json (read back, as at a fresh lock). Those marker directories stay
 * until the lock is released, so a racer that judged the same state stale
 * later still finds its MKD refused, and an old holder that wakes up finds its
 * takeover marker and stops. A run that finds `.lock/` without any file, or
 * loses a takeover, leaves a dated sighting file: a taker killed before its
 * holder file was written then leaves a lock the lease frees too.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { joinRemote, LOCK_HOLDER_NAME, TEMP_SUFFIX } from './layout.js';
import type { RemoteClock, RemoteFs } from './remoteFs.js';

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
  /** The holder's own clock at its last renewal: for people reading the file, never compared. */
  renewedAt: z.string().optional(),
});
type Holder = z.infer<typeof Holder>;

/** What the lock needs of a RemoteFs, and the NAS clock. */
export type LockFs = Pick<
  RemoteFs,
  | 'list'
  | 'mkdirp'
  | 'mkdirExclusive'
  | 'removeDir'
  | 'removeFile'
  | 'readText'
  | 'writeText'
  | 'rename'
  | 'exists'
> &
  RemoteClock;

/** A stale lock this run took over. */
export interface TakenOver {
  /** The old holder, when its file could be read. */
  holder?: LockInfo;
  /** How long the old lock had gone unrenewed, by the NAS clock. */
  idleMs: number;
  /** The report's warning, naming the old holder. */
  message: string;
}

export type LockResult =
  | {
      acquired: true;
      /** Rewrite holder.json; throws LeaseLostError when the lock is no longer ours. */
      renew(): Promise<void>;
      /** Remove the lock if it still carries our token. */
      release(): Promise<void>;
      /** Set when a stale lock was taken over. */
      tookOver?: TakenOver;
    }
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
  /** A lock not renewed for this long (NAS clock) is stale and taken over; default 10 minutes. */
  leaseMs?: number;
  /** Where breaking, takeovers and odd releases are reported. */
  logger?: Logger;
  /** Name of this host, to tell whether a holder's pid can be checked here. */
  localHost?: string;
}

/** The lock is no longer ours: taken over, broken, or its holder file replaced. */
export class LeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

const DEFAULT_LEASE_MS = 600_000;
const TAKEOVER_PREFIX = 'takeover-';
/** Written by a run that found `.lock/` empty: dates a lock whose taker died before writing. */
const SIGHTING_EMPTY = {
  name: 'seen-without-holder',
  text: 'a run found this lock without a holder file; the lease frees it if none appears',
};
/** Written by a run that lost a takeover: dates a lock whose taker died before writing. */
const SIGHTING_TAKEOVER = {
  name: 'seen-takeover',
  text: 'a run found this stale lock being taken over; the lease frees it if no holder appears',
};
/** Tokens we wrote are UUIDs; anything else from a holder file never becomes part of a path. */
const SAFE_TOKEN = /^[A-Za-z0-9-]{1,64}$/;

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

function describeHolder(h: Holder): string {
  return `run ${h.runId} (host ${h.host}, pid ${h.pid}, since ${h.startedAt})`;
}

/** `754000` → `12m34s`. */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Remove a lock whatever its shape (our directory, or a plain file someone left). */
async function clearLock(fs: LockFs, lockPath: string): Promise<void> {
  if ((await fs.list(lockPath)) !== undefined) await fs.removeDir(lockPath);
  else await fs.removeFile(lockPath);
}

/**
 * "Now" on the NAS clock: the file time of a probe written beside the lock
 * (never inside it: what is in `.lock/` is the holder's) and removed again.
 */
export async function nasNow(fs: LockFs, dir: string): Promise<Date> {
  const probe = joinRemote(dir, `.clock-${randomUUID()}${TEMP_SUFFIX}`);
  await fs.writeText(probe, 'clock probe\n');
  try {
    const time = await fs.modifiedAt(probe);
    if (time === undefined) {
      throw new Error(`the NAS reports no modification time (MDTM) for ${probe}, just written`);
    }
    return time;
  } finally {
    await fs.removeFile(probe);
  }
}

/** What an existing lock directory shows: its holder and when it was last written (NAS clock). */
interface Seen {
  holder: Holder | undefined;
  /** Newest file time in `.lock/`; undefined when it holds no file (or is a plain file). */
  lastWrite: Date | undefined;
  /** `.lock` is a directory (not a plain file someone left). */
  isDir: boolean;
}

async function inspect(fs: LockFs, lockPath: string): Promise<Seen> {
  // The holder first, its file times after: a takeover that lands between the two then
  // shows as a fresh file time (held), never as the new holder with the old time, which
  // would make a marker name nobody took yet and let a second racer win.
  const holder = await readHolder(fs, lockPath);
  const listed = await fs.list(lockPath);
  const entries = listed ?? [];
  let lastWrite: Date | undefined;
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const t = await fs.modifiedAt(joinRemote(lockPath, e.name));
    if (t && (!lastWrite || t > lastWrite)) lastWrite = t;
  }
  return {
    holder,
    lastWrite,
    isDir: listed !== undefined,
  };
}

/** Write the sighting file into an undatable lock; a failure only means no dating this time. */
async function markSighting(
  fs: LockFs,
  lockPath: string,
  logger: Logger | undefined,
  sighting: { name: string; text: string },
) {
  try {
    await fs.writeText(joinRemote(lockPath, sighting.name), `${sighting.text}\n`);
  } catch (error) {
    logger?.debug('could not date a lock without holder', { error: errorMessage(error) });
  }
}

function heldResult(
  lockPath: string,
  holder: Holder | undefined,
  me: LockInfo,
  localHost: string,
  idle?: { ms: number; leaseMs: number },
): LockResult & { acquired: false } {
  const clear = 'if no run is active on that node, clear it with --break-lock';
  const idleText = idle
    ? `; last renewed ${age(idle.ms)} ago by the NAS clock, taken over once ${age(idle.leaseMs)} pass without renewal`
    : '';
  if (holder === undefined) {
    return {
      acquired: false,
      message:
        `node lock ${lockPath} exists but names no holder (a run is just taking it, ` +
        `or one was killed while taking it)${idleText}; ${clear}`,
    };
  }
  const who = describeHolder(holder);
  if (holder.host === localHost && holder.pid !== me.pid && !pidAlive(holder.pid)) {
    return {
      acquired: false,
      holder: info(holder),
      stale: true,
      message: `node lock ${lockPath} is stale: ${who} no longer runs on this host${idleText}; clear it with --break-lock`,
    };
  }
  return {
    acquired: false,
    holder: info(holder),
    message: `node lock ${lockPath} is held by ${who}${idleText}; ${clear}`,
  };
}

/** Write our holder file and read it back; on a failure remove the lock if it is ours alone. */
async function claim(
  fs: LockFs,
  lockPath: string,
  mine: Holder,
  options: LockOptions,
  removeOnFailure: boolean,
): Promise<Holder | undefined> {
  try {
    await fs.writeText(
      joinRemote(lockPath, LOCK_HOLDER_NAME),
      `${JSON.stringify(mine, null, 2)}\n`,
    );
    // Read back: if someone broke our fresh lock and took it in between, the token differs.
    return await readHolder(fs, lockPath);
  } catch (error) {
    // We created the directory: an error must not leave it behind, or every later run is
    // refused ("names no holder") until the admin breaks it. Never remove someone else's.
    if (removeOnFailure) {
      try {
        const now = await readHolder(fs, lockPath);
        if (now === undefined || now.token === mine.token) await clearLock(fs, lockPath);
      } catch (cleanup) {
        options.logger?.warn('could not remove the node lock after failing to take it', {
          lock: lockPath,
          error: errorMessage(cleanup),
        });
      }
    }
    throw error;
  }
}

/**
 * Take the lock at `lockPath` (its parent is created when missing). On
 * success, `renew()` keeps the lease and `release()` removes the lock only if
 * it still carries our token.
 */
export async function acquireLock(
  fs: LockFs,
  lockPath: string,
  me: LockInfo,
  options: LockOptions,
): Promise<LockResult> {
  const localHost = options.localHost ?? me.host;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const parent = lockPath.slice(0, lockPath.lastIndexOf('/')) || '/';
  await fs.mkdirp(parent);
  const mine: Holder = { ...me, token: randomUUID(), renewedAt: new Date().toISOString() };

  let tookOver: TakenOver | undefined;
  let created = await createLock(fs, parent, lockPath, mine);
  if (!created && options.breakLock) {
    const holder = await readHolder(fs, lockPath).catch(() => undefined);
    options.logger?.warn('breaking node lock on --break-lock', {
      lock: lockPath,
      holder: holder ? info(holder) : 'unknown',
    });
    await clearLock(fs, lockPath);
    created = await createLock(fs, parent, lockPath, mine);
    if (!created) return heldResult(lockPath, await readHolder(fs, lockPath), me, localHost);
  } else if (!created) {
    const seen = await inspect(fs, lockPath);
    if (seen.lastWrite === undefined) {
      // Nothing in .lock/ to date it by: a run killed between its MKD and its holder file, or
      // one just taking it. Leave a dated sighting, so that the lease frees it if no holder
      // ever writes (a taker that is alive writes its holder file and wins all the same).
      if (seen.isDir) await markSighting(fs, lockPath, options.logger, SIGHTING_EMPTY);
      return heldResult(lockPath, seen.holder, me, localHost);
    }
    const idleMs = (await nasNow(fs, parent)).getTime() - seen.lastWrite.getTime();
    // A holder that ran on this host and whose pid is gone provably no longer runs (a kill -9
    // on the cron host): it need not wait out the lease. Elsewhere only the lease can tell.
    const provenDead =
      seen.holder !== undefined &&
      seen.holder.host === localHost &&
      seen.holder.pid !== me.pid &&
      !pidAlive(seen.holder.pid);
    if (idleMs < leaseMs && !provenDead) {
      return heldResult(lockPath, seen.holder, me, localHost, { ms: idleMs, leaseMs });
    }
    // The marker names the old holder and the state judged stale (its newest file time):
    // racers that judged the same state race for the same name.
    const holderId =
      seen.holder && SAFE_TOKEN.test(seen.holder.token) ? seen.holder.token : 'unknown';
    const marker = `${TAKEOVER_PREFIX}${holderId}-${seen.lastWrite.getTime()}`;
    const won = await fs.mkdirExclusive(joinRemote(lockPath, marker));
    if (!won) {
      // Another run took it over a moment ago, or was killed doing so before writing its
      // holder file: a dated sighting makes the next judgement a new state (a new marker),
      // so a dead taker's lock is freed by the lease as well.
      await markSighting(fs, lockPath, options.logger, SIGHTING_TAKEOVER);
      return {
        acquired: false,
        ...(seen.holder ? { holder: info(seen.holder) } : {}),
        message:
          `node lock ${lockPath} is stale and another run is taking it over ` +
          `(or one was killed while taking it over: the lease frees it after ${age(leaseMs)}); ` +
          'if no run is active on that node, clear it with --break-lock',
      };
    }
    const who = seen.holder ? describeHolder(seen.holder) : 'a holder of unknown format';
    tookOver = {
      ...(seen.holder ? { holder: info(seen.holder) } : {}),
      idleMs,
      message:
        idleMs < leaseMs
          ? `took over stale node lock ${lockPath} of ${who}: it ran on this host and its process is gone`
          : `took over stale node lock ${lockPath} of ${who}: not renewed for ${age(idleMs)} by the NAS clock (lease ${age(leaseMs)})`,
    };
  }

  // A lock we created already holds our holder file; a taken-over one gets it now.
  const back = created
    ? await readHolder(fs, lockPath)
    : await claim(fs, lockPath, mine, options, false);
  if (back?.token !== mine.token) return heldResult(lockPath, back, me, localHost);
  if (tookOver) options.logger?.warn(tookOver.message, { lock: lockPath });
  return granted(fs, lockPath, mine, options, tookOver);
}

/** The held lock: renewal and release, both checking the token first. */
function granted(
  fs: LockFs,
  lockPath: string,
  mine: Holder,
  options: LockOptions,
  tookOver: TakenOver | undefined,
): LockResult & { acquired: true } {
  let released = false;
  let lost: LeaseLostError | undefined;
  const lose = (why: string) => {
    lost = new LeaseLostError(`node lock ${lockPath} is no longer ours: ${why}`);
    throw lost;
  };
  return {
    acquired: true,
    ...(tookOver ? { tookOver } : {}),
    async renew() {
      if (lost) throw lost;
      if (released) return;
      const names = (await fs.list(lockPath))?.map((e) => e.name);
      if (names === undefined) return lose('it was removed (--break-lock?)');
      if (names.some((n) => n.startsWith(`${TAKEOVER_PREFIX}${mine.token}-`)))
        return lose('another run took it over as stale');
      const now = await readHolder(fs, lockPath);
      if (now?.token !== mine.token) {
        return lose(now ? `it is held by ${describeHolder(now)}` : 'its holder file was replaced');
      }
      await fs.writeText(
        joinRemote(lockPath, LOCK_HOLDER_NAME),
        `${JSON.stringify({ ...mine, renewedAt: new Date().toISOString() }, null, 2)}\n`,
      );
    },
    async release() {
      if (released) return;
      released = true;
      const now = await readHolder(fs, lockPath);
      if (now?.token !== mine.token) {
        options.logger?.warn('node lock is no longer ours; leaving it', {
          lock: lockPath,
          holder: now ? info(now) : 'unknown',
        });
        return;
      }
      // One rename takes the lock away (a kill after it leaves only a temp name, which healing
      // removes); a DELE of the holder file then RMD would leave a lock without holder.
      const gone = joinRemote(
        lockPath.slice(0, lockPath.lastIndexOf('/')) || '/',
        `.lock-${mine.token}-released${TEMP_SUFFIX}`,
      );
      await fs.rename(lockPath, gone);
      await fs.removeDir(gone);
    },
  };
}

/**
 * Create the lock with its holder file already inside, in one step another run can see:
 * the holder is written into a staging directory of ours, which is then renamed to `.lock`.
 * A kill before the rename leaves only the staging name (healing removes it), never a
 * `.lock/` without holder. Two runs that both found no `.lock`: the second rename fails,
 * as a rename onto a non-empty directory does on every server we support; that is the
 * exclusive part. Returns whether we created it.
 */
async function createLock(
  fs: LockFs,
  parent: string,
  lockPath: string,
  mine: Holder,
): Promise<boolean> {
  const staging = joinRemote(parent, `.lock-${mine.token}${TEMP_SUFFIX}`);
  await fs.mkdirExclusive(staging);
  let renamed = false;
  try {
    await fs.writeText(joinRemote(staging, LOCK_HOLDER_NAME), `${JSON.stringify(mine, null, 2)}\n`);
    // Never renamed over anything: some servers silently replace an empty directory (an older
    // version's half-made lock) or a file on a rename. Whatever is there is judged instead.
    if ((await fs.exists(lockPath)) !== undefined) {
      return false;
    }
    await fs.rename(staging, lockPath);
    renamed = true;
    return true;
  } catch (error) {
    if ((await fs.exists(lockPath)) !== undefined) {
      return false;
    }
    throw error;
  } finally {
    // Left after a refusal or a failure; after a successful rename it is the lock itself.
    if (!renamed) await fs.removeDir(staging).catch(() => {});
  }
}
