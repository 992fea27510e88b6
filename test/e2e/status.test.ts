/**
 * `status` through the BUILT CLI against the simulator and the embedded FTP
 * server: coverage verdicts after real runs, exit 1 when a selected guest has
 * no fresh copy, a manifest that cannot be read reported without hiding the
 * others, the NAS down (exit 3) and the API down (copies judged by age).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/status/collect.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { DEMO_FTP_DIR, startWorld, type World } from './support/world.js';

let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: 200,
    hookTuning: { retries: 1, retry_delay: 1 },
    // 202's uploads are refused: it never gets a copy.
    ftpRefuseWrite: (path) => path.includes('-202-'),
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 4096 },
          { vmid: 102, type: 'lxc', name: 'db', status: 'stopped', archiveSize: 4096 },
        ],
      },
      {
        name: 'pve2',
        guests: [
          { vmid: 201, type: 'lxc', name: 'mail', status: 'running', archiveSize: 8192 },
          { vmid: 202, type: 'lxc', name: 'dns', status: 'running', archiveSize: 2048 },
        ],
      },
    ],
  });
  const night = await runCli(['run', '-c', world.configPath, '--json'], {
    env: world.env,
    cwd: world.tmp,
  });
  expect(night.code, night.stderr).toBe(1);
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const status = (...extra: string[]) =>
  runCli(['status', '-c', world.configPath, ...extra], { env: world.env, cwd: world.tmp });

describe('status', () => {
  it('gives every guest its verdict and exits 1 when a selected guest has no copy', async () => {
    const r = await status('--json');
    expect(r.code, r.stderr).toBe(1);
    const report = jsonReport<StatusReport>(r);
    const verdicts = Object.fromEntries(report.rows.map((x) => [x.vmid, x.verdict]));
    expect(verdicts).toEqual({ 101: 'ok', 102: 'unselected', 201: 'ok', 202: 'missing' });
    const web = report.rows.find((x) => x.vmid === 101);
    expect(web?.newest).toMatchObject({ generation: 'daily.0', size: 4096, node: 'pve1' });
    expect(web?.copies).toBe(1);
    expect(report.counts).toMatchObject({ ok: 2, missing: 1, unselected: 1 });
  }, 60_000);

  it('selects like run: --vmid and --guests', async () => {
    const one = await status('--vmid', '101', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(jsonReport<StatusReport>(one).rows.map((x) => x.vmid)).toEqual([101]);
    const all = await status('--guests', 'all', '--node', 'pve1', '--json');
    expect(all.code).toBe(1); // 102 is selected now and has no copy
    expect(jsonReport<StatusReport>(all).rows.find((x) => x.vmid === 102)?.verdict).toBe('missing');
  }, 60_000);

  it('--max-age turns an old copy stale; a bad duration is a usage error', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const r = await status('--max-age', '1s', '--vmid', '101', '--json');
    expect(r.code).toBe(1);
    expect(jsonReport<StatusReport>(r).rows[0]?.verdict).toBe('stale');
    const bad = await status('--max-age', 'tomorrow');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-age tomorrow: expected a duration/);
  }, 60_000);

  it('prints a table for people', async () => {
    const r = await status();
    expect(r.stdout).toMatch(/^NODE\s+VMID\s+NAME/m);
    expect(r.stdout).toMatch(/pve2\s+202\s+dns\s+lxc\s+running\s+MISSING/);
    expect(r.stdout).toMatch(/4 guest\(s\): 2 ok, 0 stale, 1 missing, 0 gone, 1 unselected/);
  }, 60_000);

  it('reports a manifest that cannot be read and still judges the other trees', async () => {
    const path = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'daily.0', 'manifest.json');
    const { readFile } = await import('node:fs/promises');
    const good = await readFile(path, 'utf8');
    await writeFile(path, '{ not json');
    try {
      const r = await status('--json');
      expect(r.code).toBe(1);
      const report = jsonReport<StatusReport>(r);
      expect(report.nasProblems).toEqual([
        {
          node: 'pve1',
          problem: expect.stringMatching(/^daily\.0\/manifest\.json: .*not valid JSON/),
        },
      ]);
      expect(report.rows.find((x) => x.vmid === 201)?.verdict).toBe('ok');
      expect(report.rows.find((x) => x.vmid === 101)?.verdict).toBe('missing');
    } finally {
      await writeFile(path, good);
    }
  }, 60_000);

  it('with the API down, copies are judged by age; with the NAS down, exit 3', async () => {
    await world.writeConfig({
      clusters: [
        {
          name: 'demo',
          url: 'https://127.0.0.1:1',
          auth: { token: 'backup@pve!nightly', secret: `\${PVE_TOKEN_SECRET}` },
          tls: { insecure: true },
        },
      ],
    });
    try {
      const r = await status('--json');
      expect(r.code).toBe(1);
      const report = jsonReport<StatusReport>(r);
      expect(report.clusterFailures).toHaveLength(1);
      expect(report.rows.find((x) => x.vmid === 101)).toMatchObject({
        verdict: 'ok',
        state: 'unknown',
      });
    } finally {
      await world.writeConfig();
    }
    await world.writeConfig({ ftp: { port: 1 } });
    try {
      const r = await status('--json');
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/cannot read the NAS/);
    } finally {
      await world.writeConfig();
    }
  }, 60_000);
});
