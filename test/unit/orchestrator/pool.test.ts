import { describe, expect, it } from 'vitest';
import { runPool } from '../../../src/orchestrator/pool.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runPool', () => {
  it('never has more than `limit` workers in flight and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const items = [30, 5, 20, 1, 15, 2, 8];
    const results = await runPool(items, 3, async (ms, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick(ms);
      inFlight--;
      return i * 10;
    });
    expect(peak).toBe(3);
    expect(results).toEqual(items.map((_, i) => ({ ok: true, value: i * 10 })));
  });

  it('turns a throwing worker into a result and runs the others', async () => {
    const seen: number[] = [];
    const results = await runPool([1, 2, 3, 4], 2, async (n) => {
      seen.push(n);
      if (n === 2) throw new Error('boom');
      return n;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect(results[1]).toMatchObject({ ok: false });
    expect((results[1] as { error: Error }).error.message).toBe('boom');
    expect(results.filter((r) => r.ok)).toHaveLength(3);
  });

  it('starts the next item as soon as a slot frees (no batching)', async () => {
    const starts: Record<number, number> = {};
    const t0 = Date.now();
    await runPool([100, 10, 10, 10], 2, async (ms, i) => {
      starts[i] = Date.now() - t0;
      await tick(ms);
    });
    // Items 2 and 3 start while item 0 (100 ms) is still running.
    expect(starts[3]).toBeLessThan(80);
  });

  it('runs strictly one after another with limit 1', async () => {
    const order: string[] = [];
    await runPool(['a', 'b', 'c'], 1, async (x) => {
      order.push(`start ${x}`);
      await tick(2);
      order.push(`end ${x}`);
    });
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('handles an empty list and refuses a bad limit', async () => {
    expect(await runPool([], 4, async () => 1)).toEqual([]);
    await expect(runPool([1], 0, async () => 1)).rejects.toThrow(RangeError);
  });
});
