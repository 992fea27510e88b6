/**
 * `run --dry-run` through the BUILT CLI: reads only (API GETs, FTP listings),
 * shows the plan and the rotation it would do, changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DryRunReport } from '../../src/orchestrator/dryRun.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { nasSnapshot, nodeFiles, startWorld, type World } from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '8.4',
    auth: 'token',
    keep: 2,
    backupDurationMs: 50,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 1 * MiB },
          { vmid: 102, type: 'lxc', name: 'off', status: 'stopped', archiveSize: 1 * MiB },
        ],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const cli = (...args: string[]) =>
  runCli(['run', '-c', world.configPath, ...args], { env: world.env, cwd: world.tmp });

describe('--dry-run', () => {
  it('changes nothing (same NAS tree, only GET requests) and shows the rotation a run would do', async () => {
    for (let i = 0; i < 2; i++) expect((await cli('--json')).code).toBe(0);
    const tree = await nasSnapshot(world);
    const nodeBefore = await nodeFiles(world, 'pve1');
    const requestsBefore = world.sim.requests.length;

    const r = await cli('--dry-run', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<DryRunReport>(r);
    expect(report.dryRun).toBe(true);
    const node = report.nodes[0];
    expect(node?.guests.map((g) => g.vmid)).toEqual([101]);
    expect(node?.skipped.map((s) => s.vmid)).toEqual([102]);
    expect(node?.generations.map((g) => g.name)).toEqual(['daily.0', 'daily.1']);
    // keep 2: daily.1 would go, daily.0 → daily.1, transfer → daily.0.
    expect(node?.removes).toEqual(['daily.1']);
    expect(node?.renames.filter((s) => !s.to.startsWith('.'))).toEqual([
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);

    expect(await nasSnapshot(world)).toEqual(tree);
    expect(await nodeFiles(world, 'pve1')).toEqual(nodeBefore);
    const requests = world.sim.requests.slice(requestsBefore);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((q) => q.method !== 'GET')).toEqual([]);
  }, 90_000);
});
