/**
 * The run in-process against the simulator (real hook, real curl uploads) and
 * the embedded FTP server: the wiring of inventory, plan, node runner, NAS
 * adapter and rotation, faster to debug than the spawned CLI of test/e2e.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { executeRun } from '../../../src/commands/run.js';
import type { CommandContext, RunOptions } from '../../../src/commands/types.js';
import { DEMO_FTP_DIR, startWorld, type World } from '../../../src/demo/world.js';
import { Redactor, silentLogger } from '../../../src/log.js';

const MiB = 1024 * 1024;
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function ctx(w: World, signal = new AbortController().signal): CommandContext {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return {
    stdout: sink,
    stderr: sink,
    signal,
    forceSignal: new AbortController().signal,
    logger: silentLogger(),
    redactor: new Redactor(),
    env: { ...w.env },
    cwd: w.tmp,
    isTty: false,
  };
}

const runOpts = (w: World, extra: Partial<RunOptions> = {}): RunOptions => ({
  config: w.configPath,
  json: false,
  node: [],
  vmid: [],
  dryRun: false,
  noRotate: false,
  breakLock: false,
  ...extra,
});

describe('run (in-process)', () => {
  it('saves the running containers of two nodes into daily.0 and deletes the node copies', async () => {
    world = await startWorld({
      flavour: '9.1',
      auth: 'token',
      backupDurationMs: 50,
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'lxc', name: 'a', status: 'running', archiveSize: 1 * MiB },
            { vmid: 102, type: 'lxc', name: 'b', status: 'stopped', archiveSize: 1 * MiB },
          ],
        },
        {
          name: 'pve2',
          guests: [{ vmid: 201, type: 'lxc', name: 'c', status: 'running', archiveSize: 2 * MiB }],
        },
      ],
    });
    const { exitCode, report } = await executeRun(runOpts(world), ctx(world), {
      watch: { firstPollMs: 100, intervalMs: 200 },
    });
    expect(
      report?.nodes.flatMap((n) => n.guests.map((g) => [g.vmid, g.outcome, g.error ?? ''])),
    ).toEqual([
      [101, 'saved', ''],
      [201, 'saved', ''],
    ]);
    expect(exitCode).toBe(0);
    const d0 = await readdir(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'daily.0'));
    expect(d0.sort()).toEqual([
      'manifest.json',
      expect.stringMatching(/^vzdump-lxc-101-.*\.log$/),
      expect.stringMatching(/^vzdump-lxc-101-.*\.tar\.zst$/),
      expect.stringMatching(/^vzdump-lxc-101-.*\.tar\.zst\.sha256$/),
    ]);
    expect((await readdir(world.sim.dumpDir('pve1'))).filter((f) => f.endsWith('.zst'))).toEqual(
      [],
    );
  });

  it("a vzdump that fails (failBackup) fails that guest with PVE's reason; --no-rotate leaves transfer/ with its manifest", async () => {
    world = await startWorld({
      flavour: '8.4',
      auth: 'token',
      backupDurationMs: 50,
      faults: { failBackup: [{ vmid: 102, message: 'simulated disk error' }] },
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'lxc', name: 'a', status: 'running', archiveSize: 1 * MiB },
            { vmid: 102, type: 'lxc', name: 'b', status: 'running', archiveSize: 1 * MiB },
          ],
        },
      ],
    });
    const { exitCode, report } = await executeRun(runOpts(world, { noRotate: true }), ctx(world), {
      watch: { firstPollMs: 100, intervalMs: 200 },
    });
    expect(exitCode).toBe(1);
    const [a, b] = report?.nodes[0]?.guests ?? [];
    expect(a).toMatchObject({ vmid: 101, outcome: 'saved', nodeCopy: 'deleted' });
    expect(b).toMatchObject({ vmid: 102, outcome: 'failed' });
    expect(b?.error).toContain('simulated disk error');
    const nodeDir = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1');
    expect((await readdir(nodeDir)).filter((n) => !n.startsWith('.'))).toEqual(['transfer']);
    const manifest = JSON.parse(await readFile(join(nodeDir, 'transfer', 'manifest.json'), 'utf8'));
    expect(
      manifest.guests.map((g: { vmid: number; status: string }) => [g.vmid, g.status]),
    ).toEqual([
      [101, 'saved'],
      [102, 'failed'],
    ]);
  });
});
