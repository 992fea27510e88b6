import { describe, expect, it } from 'vitest';
import { serializeManifest } from '../../../src/ftp/manifest.js';
import { silentLogger } from '../../../src/log.js';
import { dryRunNode } from '../../../src/orchestrator/dryRun.js';
import type { NodePlan } from '../../../src/orchestrator/plan.js';
import { MemoryFs } from '../../support/memoryFs.js';

const dir = '/nas/dump';
function manifest(runId: string, saved: number[]) {
  return serializeManifest({
    version: 1,
    runId,
    node: 'pve1',
    cluster: 'c',
    pveVersion: '8.4.1',
    startedAt: '2026-11-29T02:00:00Z',
    finishedAt: '2026-11-29T02:10:00Z',
    guests: saved.map((vmid) => ({
      vmid,
      type: 'lxc',
      name: `ct${vmid}`,
      status: 'saved',
      files: [{ name: `vzdump-lxc-${vmid}-x.tar.zst`, size: 5 }],
    })),
  });
}
function generation(fs: MemoryFs, name: string, runId: string, saved: number[]) {
  fs.seedFile(`${dir}/pve1/${name}/manifest.json`, manifest(runId, saved));
  for (const vmid of saved)
    fs.seedFile(`${dir}/pve1/${name}/vzdump-lxc-${vmid}-x.tar.zst`, 'xxxxx');
}
const plan: NodePlan = {
  cluster: 'c',
  node: 'pve1',
  online: true,
  pveVersion: '8.4.1',
  guests: [{ vmid: 101, type: 'lxc', name: 'web', status: 'running', explicit: false }],
  skipped: [],
};
const config = {
  ftp: { host: 'h', port: 21, user: 'u', password: 'p', secure: false, dir, insecure: false },
  retention: { keep: 2 },
};

describe('dryRunNode', () => {
  it('shows the rotation of a run, keeps the only copy of a guest past keep, and writes nothing', async () => {
    const fs = new MemoryFs();
    generation(fs, 'daily.0', 'r2', [101]);
    generation(fs, 'daily.1', 'r1', [101, 102]);
    const before = fs.snapshot();
    const r = await dryRunNode(plan, fs, config, {
      logger: silentLogger(),
      runId: 'dry',
      rotate: true,
    });
    expect(r.generations.map((g) => g.name)).toEqual(['daily.0', 'daily.1']);
    expect(r.repairs).toEqual([]);
    expect(r.renames).toEqual([
      { from: 'daily.1', to: 'daily.2' },
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(r.removes).toEqual([]);
    expect(r.retainedPastKeep).toEqual([{ name: 'daily.2', reason: expect.stringMatching(/102/) }]);
    expect(fs.snapshot()).toEqual(before);
  });

  it('shows the removal past keep when nothing needs protecting', async () => {
    const fs = new MemoryFs();
    generation(fs, 'daily.0', 'r2', [101]);
    generation(fs, 'daily.1', 'r1', [101]);
    const r = await dryRunNode(plan, fs, config, {
      logger: silentLogger(),
      runId: 'dry',
      rotate: true,
    });
    expect(r.removes).toEqual(['daily.1']);
    expect(r.renames.filter((s) => !s.to.startsWith('.'))).toEqual([
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
  });

  it('lists the repair of a crashed run (leftover transfer/) before the rotation, still writing nothing', async () => {
    const fs = new MemoryFs();
    generation(fs, 'daily.0', 'r1', [101]);
    fs.seedFile(`${dir}/pve1/transfer/vzdump-lxc-101-y.tar.zst`, 'yy');
    fs.seedDir(`${dir}/pve1/.lock`);
    const before = fs.snapshot();
    const r = await dryRunNode(plan, fs, config, {
      logger: silentLogger(),
      runId: 'dry',
      rotate: true,
    });
    expect(r.lockPresent).toBe(true);
    expect(r.repairs.join()).toMatch(/transfer\/ left by an interrupted run/);
    expect(r.renames.slice(0, 2)).toEqual([
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(fs.snapshot()).toEqual(before);
  });
});
