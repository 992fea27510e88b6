/**
 * The node lock and crash healing through the BUILT CLI: a second run skips a
 * node whose lock is held (exit 3, naming the holder); a run killed with -9
 * leaves its lock, which the next run on the same host takes over at once (the
 * holder's process is gone) and whose leftover transfer/ it heals into its own
 * generation.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli, startCli } from './support/cli.js';
import { archives, DEMO_FTP_DIR, nasLayout, startWorld, type World } from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 5,
    backupDurationMs: 1200,
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102].map((vmid) => ({
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

const args = () => ['run', '-c', world.configPath, '--json'];
const opts = () => ({ env: world.env, cwd: world.tmp });

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 15_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('node lock', () => {
  it('a second run skips a locked node naming the holder (exit 3); the first run finishes normally', async () => {
    const first = startCli(args(), opts());
    await until('a running task', () => world.sim.tasks().some((t) => t.running));
    const second = await runCli(args(), opts());
    expect(second.code, second.stderr).toBe(3);
    const report = jsonReport<RunReport>(second);
    expect(report.nodes[0]).toMatchObject({ node: 'pve1', status: 'locked' });
    expect(report.nodes[0]?.lockHolder?.pid).toBe(first.child.pid);
    expect(JSON.stringify(report)).not.toMatch(/token/i);
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
  }, 60_000);

  it('a killed run leaves a lock the next run on this host takes over (its process is gone), healing its transfer/', async () => {
    const transfer = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'transfer');
    const killed = startCli(args(), opts());
    // Kill -9 once the first guest's archive is on the NAS (the second is under way).
    await until(
      'an uploaded archive in transfer/',
      async () =>
        archives(await readdir(transfer).catch(() => [])).length > 0 &&
        world.sim.tasks().filter((t) => t.running).length > 0,
    );
    killed.child.kill('SIGKILL');
    await killed.done;
    await world.sim.idle();

    const before = await nasLayout(world);
    expect(before.pve1?.['.lock']).toBeDefined();
    const healed = await runCli(args(), opts());
    expect(healed.code, healed.stderr).toBe(0);
    const report = jsonReport<RunReport>(healed);
    expect(report.nodes[0]?.lockTakenOver?.holder?.pid).toBe(killed.child.pid);
    expect(report.nodes[0]?.warnings.join('\n')).toMatch(/process is gone/);
    expect(report.nodes[0]?.healing?.join('\n')).toMatch(/transfer/);
    const after = await nasLayout(world);
    // The killed run's upload became its own generation (daily.1) below this run's daily.0.
    expect(archives(after.pve1?.['daily.1'] ?? [])).toEqual(archives(before.pve1?.transfer ?? []));
    expect(archives(after.pve1?.['daily.2'] ?? [])).toEqual(
      archives(before.pve1?.['daily.0'] ?? []),
    );
    expect(after.pve1?.transfer).toBeUndefined();
    expect(after.pve1?.['.lock']).toBeUndefined();
  }, 90_000);
});
