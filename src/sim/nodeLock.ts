/**
 * The node-global vzdump lock (`/var/run/vzdump.lock`,
 * docs/pve-facts.md#vzdump-job): one job per node; later jobs queue in arrival order for up to `lockwait` minutes.
 */
import type { NodeState } from './cluster.js';

/** Raised when the lock could not be had in time; message is vzdump's. */
export class LockTimeout extends Error {}

/**
 * Waits for the node lock. `onWait` is called once when the lock is busy.
 * Resolves with the release function.
 */
export async function acquireNodeLock(
  node: NodeState,
  opts: { waitMs: number; verb: string; onWait: () => void; signal: AbortSignal },
): Promise<() => void> {
  const prev = node.lockTail;
  let release!: () => void;
  const mine = new Promise<void>((r) => {
    release = r;
  });
  node.lockTail = prev.then(() => mine);
  const busy = node.lockUsers > 0;
  node.lockUsers++;
  let released = false;
  const done = (): void => {
    if (released) return;
    released = true;
    node.lockUsers--;
    release();
  };
  if (!busy) return done;
  if (opts.waitMs <= 0) {
    done();
    throw new LockTimeout(`can't ${opts.verb} lock '/var/run/vzdump.lock' (wait = 0)`);
  }
  opts.onWait();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await new Promise<'got' | 'timeout' | 'abort'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.waitMs);
    opts.signal.addEventListener('abort', () => resolve('abort'), { once: true });
    prev.then(() => resolve('got'));
  });
  clearTimeout(timer);
  if (outcome === 'got') return done;
  // Our slot in the queue passes straight on once the holder ahead releases.
  done();
  if (outcome === 'abort') throw new Error('interrupted by signal');
  throw new LockTimeout(`can't ${opts.verb} lock '/var/run/vzdump.lock' - got timeout`);
}
