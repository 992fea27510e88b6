/**
 * kill -9 at every API write of a two-node run (vzdump POSTs, volume DELETEs),
 * one run per point: the next run exits 0, every guest is saved in daily.0, the
 * staging storages are empty, nothing of the tool's is left on the NAS, no
 * archive is lost and no guest is dumped twice in one run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/support/cli.js';
import { countWrites, faultTable, killAt, type PointResult } from './killPoints.js';

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe('kill -9 at every API write', () => {
  it('every point heals on the next run', async () => {
    const { api } = await countWrites();
    expect(api.length).toBeGreaterThanOrEqual(8);
    const results: PointResult[] = [];
    for (const [i, at] of api.entries()) results.push(await killAt('api', i + 1, at));
    process.stdout.write(`\n[fault table: API writes]\n${faultTable(results)}\n`);
    expect(results.filter((r) => r.reached).length).toBeGreaterThanOrEqual(api.length - 1);
    expect(
      results.filter((r) => r.problems.length > 0).map((r) => `${r.at}: ${r.problems.join('; ')}`),
    ).toEqual([]);
  }, 600_000);
});
