/**
 * Archives an earlier run left on the staging storage, through the BUILT CLI
 * (issue #8 §6, DESIGN.md "Archives that an earlier run left"): one whose copy
 * a killed run left on the NAS is recorded and its node copy deleted; one
 * without a copy (or with a copy of another size) is kept and reported; a lost
 * vzdump answer whose task ended quickly is followed and saved, not failed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { DEMO_FTP_DIR, nasLayout, nodeFiles, startWorld, type World } from './support/world.js';

let world: World | undefined;
beforeAll(async () => {
  await ensureBuilt();
}, 120_000);
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const guests = [
  { vmid: 101, type: 'lxc' as const, name: 'web', status: 'running' as const, archiveSize: 4096 },
  { vmid: 103, type: 'lxc' as const, name: 'old', status: 'stopped' as const, archiveSize: 2048 },
];
const run = (w: World) => runCli(['run', '-c', w.configPath, '--json'], { env: w.env, cwd: w.tmp });

const LEFT_SAVED = 'vzdump-lxc-103-2026_12_01-02_00_03.tar.zst';
const LEFT_NO_COPY = 'vzdump-lxc-103-2026_12_02-02_00_03.tar.zst';
const LEFT_OTHER_SIZE = 'vzdump-lxc-103-2026_12_03-02_00_03.tar.zst';

describe('leftovers on the staging storage', () => {
  it('records a leftover whose copy a killed run left on the NAS and deletes its node copy; keeps the others and reports them', async () => {
    world = await startWorld({
      flavour: '9.1',
      auth: 'token',
      backupDurationMs: 50,
      nodes: [{ name: 'pve1', guests }],
    });
    // A run killed after the upload and before the delete: the archive is both on the
    // node and in transfer/, which has no manifest yet.
    const dump = world.sim.dumpDir('pve1');
    await mkdir(dump, { recursive: true });
    const transfer = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'transfer');
    await mkdir(transfer, { recursive: true });
    const bytes = Buffer.alloc(3000, 7);
    await writeFile(join(dump, LEFT_SAVED), bytes);
    await writeFile(join(transfer, LEFT_SAVED), bytes);
    await writeFile(join(dump, LEFT_NO_COPY), bytes);
    await writeFile(join(dump, LEFT_OTHER_SIZE), bytes);
    await writeFile(join(transfer, LEFT_OTHER_SIZE), bytes.subarray(0, 1000));

    const r = await run(world);
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<RunReport>(r);
    const node = report.nodes[0];
    expect(node?.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'saved', 'deleted'],
    ]);
    const recorded = node?.warnings.find((w) => w.startsWith(`leftover ${LEFT_SAVED}`));
    expect(recorded).toMatch(
      /NAS copy in daily\.\d+ \(same size\) recorded there; node copy deleted/,
    );
    const kept = node?.warnings.find((w) => w.includes('from earlier runs are still on staging'));
    expect(kept).toContain('2 archive(s) (6000 bytes)');
    expect(kept).toContain(LEFT_NO_COPY);
    expect(kept).toContain(LEFT_OTHER_SIZE);
    expect(kept).not.toContain(LEFT_SAVED);

    const onNode = await nodeFiles(world, 'pve1');
    expect(onNode).not.toContain(LEFT_SAVED);
    expect(onNode).toContain(LEFT_NO_COPY);
    expect(onNode).toContain(LEFT_OTHER_SIZE);

    // The generation that holds the copy now says so in its manifest.
    const layout = (await nasLayout(world)).pve1 ?? {};
    const holder = Object.keys(layout).find((g) => layout[g]?.includes(LEFT_SAVED));
    expect(holder).toMatch(/^daily\.\d+$/);
    const manifest = JSON.parse(
      await readFile(
        join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', holder ?? '', 'manifest.json'),
        'utf8',
      ),
    ) as {
      guests: {
        vmid: number;
        status: string;
        files: { name: string; size: number }[];
        warnings?: string[];
      }[];
    };
    // The adopted leftover named its unverified archives under `failed`; the one recorded
    // as saved moved out of that entry, the other-size copy stays unverified.
    expect(manifest.guests).toEqual([
      expect.objectContaining({
        vmid: 103,
        status: 'failed',
        files: [{ name: LEFT_OTHER_SIZE, size: 1000 }],
      }),
      expect.objectContaining({
        vmid: 103,
        status: 'saved',
        files: [{ name: LEFT_SAVED, size: 3000 }],
        warnings: ["saved from an earlier run's leftover"],
      }),
    ]);

    // The next run has nothing left to record: only the two without a copy are reported.
    const again = jsonReport<RunReport>(await run(world));
    const warnings = again.nodes[0]?.warnings ?? [];
    expect(warnings.filter((w) => w.startsWith('leftover '))).toEqual([]);
    expect(warnings.find((w) => w.includes('from earlier runs'))).toContain('2 archive(s)');
  }, 90_000);

  it('a lost vzdump answer whose task ended quickly: found among finished tasks, saved, one POST', async () => {
    world = await startWorld({
      flavour: '9.1',
      auth: 'token',
      backupDurationMs: 50,
      nodes: [{ name: 'pve1', guests: [guests[0] as (typeof guests)[number]] }],
      faults: {
        http: [
          {
            method: 'POST',
            path: '/nodes/pve1/vzdump',
            status: 200,
            count: 1,
            kind: 'drop-answer',
          },
        ],
        // The task list answers late: by then the short task (and its upload) has ended.
        slow: [{ path: /^\/nodes\/pve1\/tasks$/, delayMs: 2500 }],
      },
    });
    const r = await run(world);
    expect(r.code, r.stderr).toBe(0);
    const report = jsonReport<RunReport>(r);
    expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'saved', 'deleted'],
    ]);
    const lookups = world.sim.requests.filter((q) => q.path === '/nodes/pve1/tasks');
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups[0]?.query.source).toBe('all');
    const upid = report.nodes[0]?.guests[0]?.upid ?? '';
    const task = world.sim.tasks().find((t) => t.upid === upid);
    expect(task).toBeDefined();
    expect(
      world.sim.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/vzdump')),
    ).toHaveLength(1);
  }, 90_000);
});
