/**
 * kill -9 at every FTP write the tool makes in a two-node run (lock, manifest
 * records, rotation journal and renames, lock release), one run per point:
 * the same checks as the API points. The hook's own uploads are not points:
 * they run on the node, which a killed tool does not stop.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../e2e/support/cli.js';
import { countWrites, faultTable, killAt, type PointResult } from './killPoints.js';

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe('kill -9 at every FTP write', () => {
  it('every point heals on the next run', async () => {
    const { ftp } = await countWrites();
    expect(ftp.length).toBeGreaterThanOrEqual(20);
    const results: PointResult[] = [];
    for (const [i, at] of ftp.entries()) results.push(await killAt('ftp', i + 1, at));
    process.stdout.write(`\n[fault table: FTP writes]\n${faultTable(results)}\n`);
    expect(results.filter((r) => r.reached).length).toBeGreaterThanOrEqual(ftp.length - 2);
    expect(
      results.filter((r) => r.problems.length > 0).map((r) => `${r.at}: ${r.problems.join('; ')}`),
    ).toEqual([]);
  }, 1_200_000);
});
