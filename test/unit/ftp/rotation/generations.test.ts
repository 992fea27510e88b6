import { describe, expect, it } from 'vitest';
import { listGenerations } from '../../../../src/ftp/generations.js';
import { MemoryFs } from '../../../support/memoryFs.js';
import { archiveName, NODE_DIR, seedGeneration, seedUploads } from './trees.js';

const saved = (...v: number[]) => v.map((vmid) => ({ vmid, status: 'saved' as const }));

describe('listGenerations', () => {
  it('is empty for a node directory that does not exist', async () => {
    expect(await listGenerations(new MemoryFs(), NODE_DIR)).toEqual([]);
  });

  it('lists transfer first, then daily.N by age, with manifest summary, files and totals', async () => {
    const fs = new MemoryFs();
    seedGeneration(fs, `${NODE_DIR}/daily.10`, 'old', saved(101));
    seedGeneration(fs, `${NODE_DIR}/daily.2`, 'mid', [
      ...saved(101),
      { vmid: 102, status: 'failed' },
    ]);
    seedGeneration(fs, `${NODE_DIR}/daily.0`, 'bad', saved(101), 'bad');
    seedUploads(fs, `${NODE_DIR}/transfer`, 'now', saved(103));
    fs.seedFile(`${NODE_DIR}/daily.x/f`, 'foreign');
    fs.seedFile(`${NODE_DIR}/daily.3`, 'a file, not a generation');
    const gens = await listGenerations(fs, NODE_DIR);
    expect(gens.map((g) => g.name)).toEqual(['transfer', 'daily.0', 'daily.2', 'daily.10']);

    const [transfer, bad, mid, old] = gens;
    expect(transfer).toMatchObject({ incomplete: true, manifestProblem: 'missing' });
    expect(transfer?.index).toBeUndefined();
    expect(bad).toMatchObject({ index: 0, incomplete: true });
    expect(bad?.manifestProblem).toMatch(/not valid JSON|invalid/);
    expect(mid?.manifest).toMatchObject({
      runId: 'mid',
      guests: [
        { vmid: 101, status: 'saved' },
        { vmid: 102, status: 'failed', error: 'vzdump failed' },
      ],
    });
    expect(mid?.incomplete).toBe(false);
    // manifest.json is not counted; the archive ('mid/101' = 7 bytes) and two logs are.
    expect(mid?.files.map((f) => f.name)).toEqual([
      'vzdump-lxc-101-mid.log',
      archiveName('mid', 101),
      'vzdump-lxc-102-mid.log',
    ]);
    expect(mid?.totalSize).toBe(7 + 'log mid/101'.length + 'log mid/102'.length);
    expect(old?.index).toBe(10);
  });
});
