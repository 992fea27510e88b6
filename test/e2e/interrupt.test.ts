/**
 * Signals in the middle of a run, through the BUILT CLI. SIGINT: nothing new
 * starts, the running vzdump finishes and is verified and deleted, the lock is
 * released, the report says interrupted, exit 130. A second SIGINT or SIGTERM:
 * the running vzdump is stopped through the API, exit 130 within 15 s.
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
    // 101 is quick enough to finish after the first SIGINT; 102 runs long (the force-stop case).
    backupDurationMs: (g) => (g.vmid === 102 ? 20_000 : 1500),
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
    expect(r.stdout + r.stderr).not.toContain(world.env.PVE_TOKEN_SECRET);
    await expect(access(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock'))).rejects.toThrow();
    const tree = await nasLayout(world);
    expect(archives(tree.pve1?.['daily.0'] ?? [])).toEqual([
      expect.stringMatching(/^vzdump-lxc-101-/),
    ]);
    expect(await nodeFiles(world, 'pve1').then(archives)).toEqual([]);
  }, 60_000);
});

describe('second SIGINT', () => {
  it('stops the running vzdump through the API, keeps the generations as they were, releases the lock', async () => {
    const before = await nasLayout(world);
    const run = startCli(['run', '-c', world.configPath, '--json', '--vmid', '102'], {
      env: world.env,
      cwd: world.tmp,
    });
    for (
      let i = 0;
      i < 200 && !world.sim.tasks().some((t) => t.running && t.vmids.includes(102));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const task = world.sim.tasks().find((t) => t.running && t.vmids.includes(102));
    expect(task).toBeDefined();
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    const report = jsonReport<RunReport>(r);
    expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.outcome])).toEqual([[102, 'failed']]);
    expect(
      world.sim.requests.some((q) => q.method === 'DELETE' && q.path.includes(task?.upid ?? '-')),
    ).toBe(true);
    expect(world.sim.tasks().find((t) => t.upid === task?.upid)?.running).toBe(false);
    await expect(access(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock'))).rejects.toThrow();
    expect(await nasLayout(world)).toEqual(before);
  }, 60_000);
});

describe('SIGTERM', () => {
  it('stops now: the running vzdump is stopped through the API, the lock released, exit 130 within 15 s', async () => {
    const before = await nasLayout(world);
    const run = startCli(
      ['run', '-c', world.configPath, '--json', '--vmid', '102', '--vmid', '103'],
      {
        env: world.env,
        cwd: world.tmp,
      },
    );
    for (
      let i = 0;
      i < 200 && !world.sim.tasks().some((t) => t.running && t.vmids.includes(102));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const task = world.sim.tasks().find((t) => t.running && t.vmids.includes(102));
    expect(task).toBeDefined();
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    const seconds = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(130);
    expect(seconds).toBeLessThan(15);
    const report = jsonReport<RunReport>(r);
    expect(report.interrupted).toBe(true);
    expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.outcome])).toEqual([
      [102, 'failed'],
      [103, 'not-started'],
    ]);
    expect(
      world.sim.requests.some((q) => q.method === 'DELETE' && q.path.includes(task?.upid ?? '-')),
    ).toBe(true);
    expect(world.sim.tasks().find((t) => t.upid === task?.upid)?.running).toBe(false);
    expect(world.sim.tasks().some((t) => t.vmids.includes(103))).toBe(false);
    expect(r.stderr).toMatch(/SIGTERM: stopping running vzdump tasks/);
    await expect(access(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock'))).rejects.toThrow();
    expect(await nasLayout(world)).toEqual(before);
  }, 60_000);
});
