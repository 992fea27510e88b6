/**
 * Retention tiers through the BUILT CLI (issue #12): the config's
 * retention.weekly promotes the daily that falls past keep into weekly.0 (the
 * first one at once: the tier is empty), `--dry-run` shows a promotion or a
 * shrink before it happens, `generations` and the report show the tiers, and
 * shrinking weekly to 0 removes the weekly generation at the next run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { DEMO_FTP_DIR, nasLayout, startWorld, type World } from './support/world.js';

let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 1,
    backupDurationMs: 100,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'ct101', status: 'running', archiveSize: 16 * 1024 },
        ],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

async function setRetention(retention: Record<string, number>): Promise<void> {
  const config = parse(await readFile(world.configPath, 'utf8'));
  config.retention = retention;
  await writeFile(world.configPath, stringify(config));
}
const cli = (...args: string[]) =>
  runCli([...args, '-c', world.configPath], { env: world.env, cwd: world.tmp });
const runIdOf = async (gen: string) =>
  JSON.parse(
    await readFile(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', gen, 'manifest.json'), 'utf8'),
  ).runId as string;

describe('retention tiers', () => {
  it('promotes, shows it first with --dry-run, lists the tiers, and shrinks safely', async () => {
    await setRetention({ keep: 1, weekly: 2 });
    const first = await cli('run', '--json');
    expect(first.code, first.stderr).toBe(0);

    const dry = await cli('run', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/promote: daily\.0 -> weekly\.0/);

    const second = await cli('run', '--json');
    expect(second.code, second.stderr).toBe(0);
    const report = jsonReport<RunReport>(second);
    expect(report.nodes[0]?.rotation?.promoted).toEqual([{ from: 'daily.0', to: 'weekly.0' }]);
    expect(await runIdOf('weekly.0')).toBe(jsonReport<RunReport>(first).runId);
    expect(await runIdOf('daily.0')).toBe(report.runId);

    const text = await cli('run');
    expect(text.code, text.stderr).toBe(0);
    // The third night's candidate is minutes newer than weekly.0: removed, not promoted.
    expect(Object.keys((await nasLayout(world)).pve1 ?? {}).sort()).toEqual([
      'daily.0',
      'weekly.0',
    ]);

    const gens = await cli('generations', '--json');
    expect(gens.code, gens.stderr).toBe(0);
    const listed = jsonReport<{ nodes: { generations: { name: string; tier?: string }[] }[] }>(
      gens,
    );
    expect(listed.nodes[0]?.generations.map((g) => [g.name, g.tier])).toEqual([
      ['daily.0', 'daily'],
      ['weekly.0', 'weekly'],
    ]);
    const human = await cli('generations');
    expect(human.stdout).toMatch(/weekly\.0/);
    // status counts the weekly copy among the guest's copies (newest is tonight's daily.0).
    const status = await cli('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const row = jsonReport<{
      rows: { vmid: number; copies: number; newest: { generation: string } }[];
    }>(status).rows.find((r) => r.vmid === 101);
    expect(row?.copies).toBe(2);
    expect(row?.newest.generation).toBe('daily.0');

    // Shrinking weekly 2 → 0: the dry run says so first, the next run removes it.
    await setRetention({ keep: 1, weekly: 0 });
    const before = await nasLayout(world);
    const dryShrink = await cli('run', '--dry-run');
    expect(dryShrink.stdout).toMatch(/delete: weekly\.0/);
    expect(await nasLayout(world)).toEqual(before);
    const shrink = await cli('run', '--json');
    expect(shrink.code, shrink.stderr).toBe(0);
    expect(jsonReport<RunReport>(shrink).nodes[0]?.rotation?.removed).toContain('weekly.0');
    expect(Object.keys((await nasLayout(world)).pve1 ?? {})).toEqual(['daily.0']);
  }, 180_000);

  it('refuses monthly without weekly, naming the key, before any request', async () => {
    await setRetention({ keep: 1, weekly: 0, monthly: 3 });
    const r = await cli('run');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/retention\.monthly.*retention\.weekly >= 1/);
  }, 60_000);
});
