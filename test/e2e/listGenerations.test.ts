/**
 * `list` and `generations` through the BUILT CLI, as JSON: what run would do
 * per guest, and what is on the NAS per node and generation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationsReport } from '../../src/commands/generations.js';
import type { ListReport } from '../../src/commands/list.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { startWorld, type World } from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '8.4',
    auth: 'token',
    keep: 3,
    backupDurationMs: 50,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 1 * MiB },
          {
            vmid: 102,
            type: 'lxc',
            name: 'tpl',
            status: 'stopped',
            archiveSize: 1 * MiB,
            template: true,
          },
          { vmid: 103, type: 'lxc', name: 'off', status: 'stopped', archiveSize: 1 * MiB },
        ],
      },
      { name: 'pve2', online: false, guests: [] },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const cli = (...args: string[]) => runCli(args, { env: world.env, cwd: world.tmp });

describe('list and generations', () => {
  it('list --json shows every guest with what run would do, and offline nodes', async () => {
    const r = await cli('list', '-c', world.configPath, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<ListReport>(r);
    const pve1 = report.nodes.find((n) => n.node === 'pve1');
    expect(pve1?.guests.map((g) => [g.vmid, g.action])).toEqual([
      [101, 'backup'],
      [102, 'skip'],
      [103, 'skip'],
    ]);
    expect(report.nodes.find((n) => n.node === 'pve2')?.online).toBe(false);
    // Reading only.
    expect(world.sim.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  }, 60_000);

  it('generations --json lists each generation with its manifest after two runs', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await cli('run', '-c', world.configPath, '--json');
      // pve2 is offline: the run saved pve1 and reports pve2 as not done → exit 1.
      expect(run.code, run.stderr).toBe(1);
    }
    const r = await cli('generations', '-c', world.configPath, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<GenerationsReport>(r);
    expect(report.nodes.map((n) => n.node)).toEqual(['pve1']);
    const gens = report.nodes[0]?.generations ?? [];
    expect(gens.map((g) => [g.name, g.incomplete])).toEqual([
      ['daily.0', false],
      ['daily.1', false],
    ]);
    expect(gens[0]?.manifest?.guests.map((g) => [g.vmid, g.status])).toEqual([[101, 'saved']]);
    expect(gens[0]?.files.map((f) => f.name)).toEqual([
      expect.stringMatching(/^vzdump-lxc-101-.*\.log$/),
      expect.stringMatching(/^vzdump-lxc-101-.*\.tar\.zst$/),
      expect.stringMatching(/^vzdump-lxc-101-.*\.tar\.zst\.sha256$/),
    ]);
    expect(gens[0]?.totalSize).toBeGreaterThan(MiB);
  }, 60_000);
});
