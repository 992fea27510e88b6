/**
 * Issue #8 §7 through the BUILT CLI: a killed night leaves a transfer/ with an
 * upload the tool never verified (no manifest). The next run adopts it as an
 * incomplete generation, which saved nothing, so it must not count toward
 * keep: no good generation is rotated away for it, and it goes once its guest
 * has a newer saved copy.
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { archives, DEMO_FTP_DIR, nasLayout, startWorld, type World } from './support/world.js';

let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 2,
    backupDurationMs: 100,
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102].map((vmid) => ({
          vmid,
          type: 'lxc' as const,
          name: `ct${vmid}`,
          status: 'running' as const,
          archiveSize: 32 * 1024,
        })),
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const run = async () => {
  const r = await runCli(['run', '-c', world.configPath, '--json'], {
    env: world.env,
    cwd: world.tmp,
  });
  expect(r.code, r.stderr).toBe(0);
  return jsonReport<RunReport>(r);
};
const runIdOf = async (gen: string) =>
  JSON.parse(
    await readFile(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', gen, 'manifest.json'), 'utf8'),
  ).runId as string;

describe('a killed night and keep', () => {
  it('does not rotate a good generation away for an unverified leftover', async () => {
    const first = await run();
    const second = await run();
    expect(await runIdOf('daily.0')).toBe(second.runId);
    expect(await runIdOf('daily.1')).toBe(first.runId);

    // The killed night: the hook uploaded 101's archive into transfer/, the tool died before
    // verifying it (so no manifest), and the node copy was deleted by hand afterwards.
    const node = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1');
    const name = archives(await readdir(join(node, 'daily.0'))).find((n) => n.includes('-101-'));
    const leftover =
      name?.replace(/\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}/, '2026_12_03-02_00_00') ?? '-';
    await mkdir(join(node, 'transfer'));
    await copyFile(join(node, 'daily.0', name ?? '-'), join(node, 'transfer', leftover));

    const third = await run();
    expect(third.nodes[0]?.healing?.join('\n')).toMatch(/adopted as incomplete/);
    // keep=2 counts the two runs that saved something: tonight's and the second night's.
    expect(await runIdOf('daily.0')).toBe(third.runId);
    expect(await runIdOf('daily.1')).toBe(second.runId);
    const tree = await nasLayout(world);
    // The leftover's guest has a newer saved copy now, so the leftover went; nothing else is left.
    expect(Object.keys(tree.pve1 ?? {}).sort()).toEqual(['daily.0', 'daily.1']);
    expect(third.nodes[0]?.rotation?.removed).toHaveLength(2);
  }, 120_000);
});
