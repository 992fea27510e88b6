/**
 * One guest's upload fails night after night while its neighbour on the same
 * node is saved, through the BUILT CLI: exit 1 each night, the failed guest's
 * node copies kept, and its last good copy on the NAS survives past `keep`
 * until a newer good copy exists (docs/contract.md#rotation).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
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
/** The NAS refuses uploads of guest 102's files while this is set. */
let refuse102 = false;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 2,
    backupDurationMs: 50,
    // The hook gives up fast: this test is about what the tool does next.
    hookTuning: { retries: 1, retry_delay: 1, connect_timeout: 3, stall_timeout: 3 },
    ftpRefuseWrite: (path) => refuse102 && path.includes('-102-'),
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 1 * MiB },
          { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 2 * MiB },
        ],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const run = () =>
  runCli(['run', '-c', world.configPath, '--json'], { env: world.env, cwd: world.tmp });

/** The run id of each generation of pve1, from its manifest, newest first. */
async function generationRuns(): Promise<Record<string, string>> {
  const layout = (await nasLayout(world)).pve1 ?? {};
  const out: Record<string, string> = {};
  for (const gen of Object.keys(layout).sort()) {
    const text = await readFile(
      join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', gen, 'manifest.json'),
      'utf8',
    );
    out[gen] = (JSON.parse(text) as { runId: string }).runId;
  }
  return out;
}

describe('one guest failing night after night', () => {
  it('keeps its last good copy past keep, its node copies, and exits 1 each failing night', async () => {
    const first = jsonReport<RunReport>(await run());
    expect(first.exitCode).toBe(0);

    refuse102 = true;
    const failing: RunReport[] = [];
    for (let night = 2; night <= 4; night++) {
      const r = await run();
      expect(r.code, r.stderr).toBe(1);
      const report = jsonReport<RunReport>(r);
      failing.push(report);
      const guests = report.nodes[0]?.guests ?? [];
      expect(guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
        [101, 'saved', 'deleted'],
        [102, 'failed', 'kept'],
      ]);
      expect(guests[1]?.error).toMatch(/not verified/);
      // The copies kept on earlier nights are reported at the start of each node run.
      const strays = (report.nodes[0]?.warnings ?? []).filter((w) => w.includes('earlier runs'));
      expect(strays).toHaveLength(night === 2 ? 0 : 1);
      if (night > 2) expect(strays[0]).toContain(`${night - 2} archive(s)`);
    }

    // keep=2, yet night 1 stays (renumbered to daily.2): it holds 102's only good copy.
    expect(await generationRuns()).toEqual({
      'daily.0': failing[2]?.runId,
      'daily.1': failing[1]?.runId,
      'daily.2': first.runId,
    });
    const last = failing[2]?.nodes[0];
    expect(last?.rotation?.retainedPastKeep).toEqual([
      expect.objectContaining({ name: 'daily.2', reason: expect.stringContaining('102') }),
    ]);
    const layout = (await nasLayout(world)).pve1 ?? {};
    expect(archives(layout['daily.2'] ?? []).map((n) => n.split('-')[2])).toEqual(['101', '102']);
    // Every archive of 102 that never reached the NAS is still on the node.
    expect((await nodeFiles(world, 'pve1').then(archives)).length).toBe(3);

    // 102 is saved again: the protected night-1 generation is no longer needed.
    refuse102 = false;
    const healed = jsonReport<RunReport>(await run());
    expect(healed.exitCode).toBe(0);
    expect(await generationRuns()).toEqual({
      'daily.0': healed.runId,
      'daily.1': failing[2]?.runId,
    });
  }, 120_000);
});
