/**
 * How long a node run waits on the NAS, derived from `lockLease` (issue #8
 * §2 and §3). Two promises have to hold:
 *
 * 1. The holder notices it can no longer renew well before another run may
 *    take its lock over: renewal interval + one command's timeout + the
 *    reconnect's timeout = 3 tenths of the lease, under half of it.
 * 2. With the default lease (10 minutes) a run whose NAS goes silent ends
 *    within 2 minutes. Worst case, the NAS goes silent right after a renewal
 *    while a vzdump runs (the node's hook hangs too, so only our heartbeat
 *    can notice):
 *
 *      next renewal (heartbeat)          30 s   renewEveryMs
 *      its command times out             30 s   commandTimeoutMs
 *      the one reconnect times out       30 s   commandTimeoutMs (greeting never comes)
 *      stop the vzdump task, follow it    8 s   watchTask's stop grace
 *        + the stop request and a poll   ~2 s
 *      one last lock release attempt      5 s   releaseTimeoutMs
 *      ------------------------------------------------
 *                                      ~105 s   < 120 s
 *
 *    Every later NAS command of the node fails at once (the session is gone),
 *    and no further vzdump is started there.
 *
 * A shorter lease (tests: `lockLease: 20s`) shrinks every figure with it.
 */

/** The timings of one node run's NAS session and lock lease. */
export interface NasTimings {
  /** A lock not renewed for this long (NAS clock) is stale. */
  leaseMs: number;
  /** The holder renews the lease (and so checks the NAS answers) this often. */
  renewEveryMs: number;
  /** Idle timeout of one FTP command, and of the one reconnect after it. */
  commandTimeoutMs: number;
  /** The lock release's one last attempt after the NAS stopped answering. */
  releaseTimeoutMs: number;
}

/** Longest renewal interval and command timeout, whatever the lease. */
const MAX_STEP_MS = 30_000;
/** Shortest: below a second, a loaded machine's loopback would look like a dead NAS. */
const MIN_STEP_MS = 1_000;
const MAX_RELEASE_MS = 5_000;

/** The timings for a lease of `leaseMs`. */
export function nasTimings(leaseMs: number): NasTimings {
  const step = Math.min(MAX_STEP_MS, Math.max(MIN_STEP_MS, Math.floor(leaseMs / 10)));
  return {
    leaseMs,
    renewEveryMs: step,
    commandTimeoutMs: step,
    releaseTimeoutMs: Math.min(MAX_RELEASE_MS, step),
  };
}
