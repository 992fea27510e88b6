/**
 * `pve-ftp-backup demo` through the BUILT CLI: needs nothing but the package;
 * two real runs against the embedded world, and it cleans up after itself.
 */
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe('demo', () => {
  it('runs twice, saving the running containers into daily.0 and daily.1 per node, and removes its files', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo', '--json'], { env: {}, cwd: tmpdir(), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const out = jsonReport<{
      exitCode: number;
      workDir: string;
      runs: RunReport[];
      nasTree: { path: string }[];
    }>(r);
    expect(out.runs.map((run) => [run.exitCode, run.summary.saved, run.summary.failed])).toEqual([
      [0, 4, 0],
      [0, 4, 0],
    ]);
    const dirs = out.nasTree.map((e) => e.path).filter((p) => /daily\.\d$/.test(p));
    expect(dirs).toEqual([
      'backup/dump/pve1/daily.0',
      'backup/dump/pve1/daily.1',
      'backup/dump/pve2/daily.0',
      'backup/dump/pve2/daily.1',
    ]);
    expect(out.workDir).toMatch(/pve-ftp-backup-world-/);
    await expect(access(out.workDir)).rejects.toThrow();
  }, 90_000);
});
