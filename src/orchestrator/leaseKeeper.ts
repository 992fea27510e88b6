/**
 * Keeps a node lock's lease while the node's guests run: renews it every
 * `everyMs` (through the node's one FTP session, which serialises it with
 * the runner's own commands) and declares it lost when a renewal fails, finds
 * the lock no longer ours, or no renewal succeeded for half the lease (a
 * suspended or starved process must stop before another run may judge its
 * lock stale). The renewal is also the heartbeat that notices a NAS which
 * stopped answering while a vzdump task runs. A lost lease only stops new
 * guests from starting; the node runner decides what else follows.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

export interface LeaseKeeper {
  /** Fires once the lease is lost; its reason is an Error saying why. */
  readonly lost: AbortSignal;
  /** Lose the lease now if no renewal succeeded for half the lease (checked before each guest). */
  check(): void;
  /** No more renewals (the lock is about to be released). */
  stop(): void;
}

export interface KeepLeaseOptions {
  renew: () => Promise<void>;
  everyMs: number;
  leaseMs: number;
  logger: Logger;
  /** A monotonic clock in ms (tests pass their own). */
  now?: () => number;
}

/** Start renewing; call stop() before releasing the lock. */
export function keepLease(o: KeepLeaseOptions): LeaseKeeper {
  const now = o.now ?? (() => performance.now());
  const controller = new AbortController();
  let lastOk = now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const lose = (why: string) => {
    if (controller.signal.aborted) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    o.logger.error(`lost the node lock: ${why}; no further guest is started on this node`);
    controller.abort(new Error(why));
  };
  const check = () => {
    const idle = now() - lastOk;
    if (!stopped && idle > o.leaseMs / 2) {
      lose(
        `no renewal succeeded for ${Math.round(idle / 1000)} s (lease ${Math.round(o.leaseMs / 1000)} s)`,
      );
    }
  };
  const tick = async () => {
    timer = undefined;
    if (stopped) return;
    check();
    if (stopped) return;
    try {
      await o.renew();
      lastOk = now();
    } catch (error) {
      if (!stopped) lose(`could not renew it: ${errorMessage(error)}`);
      return;
    }
    schedule();
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), o.everyMs);
    // Never the reason the process stays alive.
    timer.unref();
  };
  schedule();
  return {
    lost: controller.signal,
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
