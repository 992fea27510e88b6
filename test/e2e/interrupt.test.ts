/**
 * SIGINT in the middle of a run, through the BUILT CLI: nothing new starts,
 * the running vzdump finishes and is verified and deleted, the lock is
 * released, the report says interrupted, exit 130.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, startCli } from './support/cli.js';
import {
  archives,
  DEMO_FTP_DIR,
  nasLayout,
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
    backupDurationMs: 1500,
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102, 103].map((vmid) => ({
          vmid,
          type: 'lxc' as const,
          name: `ct${vmid}`,
          status: 'running' as const,
          archiveSize: 1 * MiB,
        })),
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

describe('SIGINT', () => {
  it('lets the running backup finish, starts nothing new, releases the lock, exits 130', async () => {
    const run = startCli(['run', '-c', world.configPath, '--json'], {
      env: world.env,
      cwd: world.tmp,
    });
    // Wait (bounded) until the first vzdump task runs.
    for (let i = 0; i < 200 && !world.sim.tasks().some((t) => t.running); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(world.sim.tasks().some((t) => t.running)).toBe(true);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    const report = jsonReport<RunReport>(r);
    expect(report.interrupted).toBe(true);
    expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.outcome])).toEqual([
      [101, 'saved'],
      [102, 'not-started'],
      [103, 'not-started'],
    ]);
    expect(world.sim.tasks()).toHaveLength(1);
    await expect(access(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock'))).rejects.toThrow();
    const tree = await nasLayout(world);
    expect(archives(tree.pve1?.['daily.0'] ?? [])).toEqual([
      expect.stringMatching(/^vzdump-lxc-101-/),
    ]);
    expect(await nodeFiles(world, 'pve1').then(archives)).toEqual([]);
  }, 60_000);
});
