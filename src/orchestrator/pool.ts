/**
 * Bounded concurrency for node runs: at most `limit` workers at once, results
 * in input order, a failing worker never stops the others (results, not
 * exceptions — one node's bug must not abandon the other nodes' backups half
 * way). Hand-rolled because Node 20 has no Promise.withResolvers and we add no
 * dependency for 30 lines.
 */

export type PoolResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Run `worker` over `items` with at most `limit` in flight. Each item starts as
 * soon as a slot is free, in input order. Resolves when every started worker
 * has settled; never rejects.
 */
export async function runPool<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
): Promise<PoolResult<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`pool limit must be a positive integer, got ${limit}`);
  }
  const results: PoolResult<R>[] = new Array(items.length);
  let next = 0;

  // Each lane takes the next unstarted item until none is left; `limit` lanes
  // run side by side, so at most `limit` workers are ever in flight.
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await worker(items[index] as T, index) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    }
  };

  const lanes = Array.from({ length: Math.min(limit, items.length) }, lane);
  await Promise.all(lanes);
  return results;
}
