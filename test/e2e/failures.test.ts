/**
 * What goes wrong, through the BUILT CLI: uploads that do not arrive fail
 * those guests only (node copies kept, older generations intact, exit 1); a
 * wrong token or a bad config touches nothing and exits 3 or 2.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import {
  archives,
  nasLayout,
  nasSnapshot,
  nodeFiles,
  startWorld,
  type World,
} from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: 50,
    hookTuning: { retries: 1, retry_delay: 1, connect_timeout: 3, stall_timeout: 3 },
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 1 * MiB },
          { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 2 * MiB },
        ],
      },
      {
        name: 'pve2',
        guests: [{ vmid: 201, type: 'lxc', name: 'mail', status: 'running', archiveSize: 1 * MiB }],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const cli = (args: string[], env: Record<string, string> = world.env) =>
  runCli(args, { env, cwd: world.tmp });

describe('failures', () => {
  it('uploads that fail: those guests failed with node copies kept, others saved, no older generation lost, exit 1', async () => {
    const first = await cli(['run', '-c', world.configPath, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const before = await nasLayout(world);

    // pve1's hook now logs in with a wrong password: its uploads are refused.
    const conf = world.hookConfPath('pve1');
    const good = await readFile(conf, 'utf8');
    await writeFile(conf, good.replace(/^password=.*$/m, 'password=wrong'), { mode: 0o600 });
    try {
      const r = await cli(['run', '-c', world.configPath, '--json']);
      expect(r.code, r.stderr).toBe(1);
      const report = jsonReport<RunReport>(r);
      expect(report.exitCode).toBe(1);
      const [pve1, pve2] = report.nodes;
      expect(pve1?.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
        [101, 'failed', 'kept'],
        [102, 'failed', 'kept'],
      ]);
      expect(pve1?.guests[0]?.error).toMatch(/not verified/);
      expect(pve2?.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
        [201, 'saved', 'deleted'],
      ]);
      // The node keeps exactly the archives that did not reach the NAS.
      expect(await nodeFiles(world, 'pve1').then(archives)).toEqual(
        pve1?.guests.map((g) => g.archive?.name).sort(),
      );
      const after = await nasLayout(world);
      // pve1 saved nothing: its generations are as they were; pve2 rotated.
      expect(after.pve1).toEqual(before.pve1);
      expect(after.pve2?.['daily.1']).toEqual(before.pve2?.['daily.0']);
    } finally {
      await writeFile(conf, good, { mode: 0o600 });
    }
  }, 90_000);

  it('a wrong token exits 3 and touches nothing: no POST, no NAS change', async () => {
    const requestsBefore = world.sim.requests.length;
    const tasksBefore = world.sim.tasks().length;
    const treeBefore = await nasSnapshot(world);
    const r = await cli(['run', '-c', world.configPath, '--json'], {
      ...world.env,
      PVE_TOKEN_SECRET: '00000000-0000-0000-0000-000000000000',
    });
    expect(r.code, r.stderr).toBe(3);
    const report = jsonReport<RunReport>(r);
    expect(report.clusterFailures).toEqual([
      expect.objectContaining({ cluster: 'demo', kind: 'auth' }),
    ]);
    expect(report.nodes).toEqual([]);
    const newRequests = world.sim.requests.slice(requestsBefore);
    expect(newRequests.length).toBeGreaterThan(0);
    expect(newRequests.filter((q) => q.method !== 'GET')).toEqual([]);
    expect(world.sim.tasks().length).toBe(tasksBefore);
    expect(await nasSnapshot(world)).toEqual(treeBefore);
    // The real secret appears nowhere in what the CLI printed.
    expect(r.stdout + r.stderr).not.toContain(world.env.PVE_TOKEN_SECRET);
  }, 60_000);

  it('a bad config exits 2 naming the key, before any request', async () => {
    const requestsBefore = world.sim.requests.length;
    const path = await world.writeConfig({ retention: { keep: 0 } });
    try {
      const r = await cli(['run', '-c', path, '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('retention.keep');
      expect(world.sim.requests.length).toBe(requestsBefore);
    } finally {
      await world.writeConfig();
    }
  }, 60_000);
});
