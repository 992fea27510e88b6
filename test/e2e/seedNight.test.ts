/**
 * The seed night, through the BUILT CLI: two nodes with running and stopped
 * containers, keep 3, four nightly runs → exactly daily.0..daily.2 per node
 * holding the right archives, node copies deleted; then --node/--vmid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { archives, nasLayout, nodeFiles, startWorld, type World } from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: 50,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 1 * MiB },
          { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 2 * MiB },
          { vmid: 103, type: 'lxc', name: 'old', status: 'stopped', archiveSize: 1 * MiB },
        ],
      },
      {
        name: 'pve2',
        guests: [
          { vmid: 201, type: 'lxc', name: 'mail', status: 'running', archiveSize: 1 * MiB },
          { vmid: 202, type: 'lxc', name: 'dns', status: 'stopped', archiveSize: 1 * MiB },
        ],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const run = (...args: string[]) =>
  runCli(['run', '-c', world.configPath, '--json', ...args], { env: world.env, cwd: world.tmp });

describe('seed night', () => {
  it('four runs with keep 3 leave exactly daily.0..daily.2 per node with the running guests', async () => {
    const seen: string[][] = [];
    for (let night = 1; night <= 4; night++) {
      const r = await run();
      expect(r.code, r.stderr).toBe(0);
      const report = jsonReport<RunReport>(r);
      expect(report.exitCode).toBe(0);
      expect(report.summary).toMatchObject({ saved: 3, failed: 0, notStarted: 0 });
      const guests = report.nodes.flatMap((n) => n.guests);
      expect(guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
        [101, 'saved', 'deleted'],
        [102, 'saved', 'deleted'],
        [201, 'saved', 'deleted'],
      ]);
      seen.push(guests.map((g) => g.archive?.name ?? ''));
    }
    const tree = await nasLayout(world);
    expect(Object.keys(tree).sort()).toEqual(['pve1', 'pve2']);
    for (const node of ['pve1', 'pve2']) {
      expect(Object.keys(tree[node] ?? {}).sort()).toEqual(['daily.0', 'daily.1', 'daily.2']);
      expect(await nodeFiles(world, node).then(archives)).toEqual([]);
    }
    // daily.0 is the 4th night, daily.2 the 2nd: the archive names say which run made them.
    expect(archives(tree.pve1?.['daily.0'] ?? [])).toEqual([seen[3]?.[0], seen[3]?.[1]].sort());
    expect(archives(tree.pve1?.['daily.2'] ?? [])).toEqual([seen[1]?.[0], seen[1]?.[1]].sort());
    expect(archives(tree.pve2?.['daily.1'] ?? [])).toEqual([seen[2]?.[2]]);
    for (const gen of Object.values(tree.pve1 ?? {})) {
      expect(gen).toContain('manifest.json');
      expect(gen.filter((f) => f.endsWith('.log'))).toHaveLength(2);
    }
  }, 90_000);

  it('--node and --vmid combine: an explicit stopped guest on the named node only', async () => {
    const before = await nasLayout(world);
    const r = await run('--node', 'pve2', '--vmid', '202');
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<RunReport>(r);
    expect(report.nodes.map((n) => n.node)).toEqual(['pve2']);
    expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.outcome])).toEqual([[202, 'saved']]);
    const after = await nasLayout(world);
    expect(after.pve1).toEqual(before.pve1);
    expect(archives(after.pve2?.['daily.0'] ?? [])).toEqual([
      expect.stringMatching(/^vzdump-lxc-202-/),
    ]);
  }, 60_000);

  it('a --vmid on another node than the --node given is refused with exit 2 before anything starts', async () => {
    const tasksBefore = world.sim.tasks().length;
    const r = await run('--node', 'pve1', '--vmid', '201');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/201/);
    expect(r.stderr).toMatch(/pve2/);
    expect(world.sim.tasks().length).toBe(tasksBefore);
  }, 60_000);
});
