/**
 * Notifications and the Prometheus textfile at the end of `run`, through the
 * BUILT CLI: the healthchecks start and end pings, the webhook's JSON report,
 * the textfile read back with a real text-format parser (a `--vmid` run keeps
 * the other guests' values), an early failure (wrong token) still notified,
 * and a hanging target costs a warning, never the exit code.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { type Recorder, startRecorder } from '../integration/notify/recorder.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { startWorld, type World } from './support/world.js';

let world: World;
let hc: Recorder;
let hook: Recorder;
let hang: Recorder;

beforeAll(async () => {
  await ensureBuilt();
  [hc, hook, hang] = await Promise.all([
    startRecorder('ok'),
    startRecorder('ok'),
    startRecorder('hang'),
  ]);
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    backupDurationMs: 100,
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102].map((vmid) => ({
          vmid,
          type: 'lxc' as const,
          name: `ct${vmid}`,
          status: 'running' as const,
          archiveSize: 1000 + vmid,
        })),
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
  await Promise.all([hc, hook, hang].map((r) => r?.close()));
});

const textfile = () => join(world.tmp, 'pve_ftp_backup.prom');
const withTargets = (extra: Record<string, unknown> = {}) =>
  world.writeConfig({
    notify: {
      healthchecks: `${hc.base}/ping/secret-uuid`,
      webhook: { url: `${hook.base}/hook`, bearer: 'web-hook-token', on: 'always' },
      ...extra,
    },
    metrics: { textfile: textfile() },
  });

function family(text: string, name: string) {
  return parsePrometheusTextFormat(text).find((f) => f.name === name)?.metrics ?? [];
}

describe('notifications and metrics at the end of run', () => {
  it('pings start and end, posts the report, writes the textfile', async () => {
    await withTargets();
    const r = await runCli(['run', '-c', world.configPath, '--json'], {
      env: world.env,
      cwd: world.tmp,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(hc.requests.map((q) => q.path)).toEqual([
      '/ping/secret-uuid/start',
      '/ping/secret-uuid',
    ]);
    const posted = hook.requests.at(-1);
    expect(posted?.headers.authorization).toBe('Bearer web-hook-token');
    expect(JSON.parse(posted?.body ?? '{}')).toMatchObject({ exitCode: 0, summary: { saved: 2 } });
    const text = await readFile(textfile(), 'utf8');
    expect(family(text, 'pve_ftp_backup_last_run_exit_code')[0]?.value).toBe('0');
    const success = family(text, 'pve_ftp_backup_guest_last_run_success');
    expect(success.map((m) => [m.labels?.vmid, m.value]).sort()).toEqual([
      ['101', '1'],
      ['102', '1'],
    ]);
    // Secrets of the targets never reach the output.
    expect(r.stdout + r.stderr).not.toMatch(/secret-uuid|web-hook-token/);
  }, 60_000);

  it('a --vmid run keeps the other guests in the textfile', async () => {
    await withTargets();
    const r = await runCli(['run', '-c', world.configPath, '--vmid', '101'], {
      env: world.env,
      cwd: world.tmp,
    });
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(textfile(), 'utf8');
    const bytes = family(text, 'pve_ftp_backup_guest_last_archive_bytes');
    expect(bytes.map((m) => [m.labels?.vmid, m.value]).sort()).toEqual([
      ['101', '1101'],
      ['102', '1102'],
    ]);
  }, 60_000);

  it('a run that fails early (wrong token) is still reported, exit 3 unchanged', async () => {
    await withTargets();
    const before = hc.requests.length;
    const r = await runCli(['run', '-c', world.configPath], {
      env: { ...world.env, PVE_TOKEN_SECRET: 'wrong-secret-value' },
      cwd: world.tmp,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(hc.requests.slice(before).map((q) => q.path)).toEqual([
      '/ping/secret-uuid/start',
      '/ping/secret-uuid/3',
    ]);
    const text = await readFile(textfile(), 'utf8');
    expect(family(text, 'pve_ftp_backup_last_run_exit_code')[0]?.value).toBe('3');
  }, 60_000);

  it('a target that hangs is a warning after its bound; the exit code stays', async () => {
    await withTargets({ webhook: { url: `${hang.base}/hook`, on: 'always' } });
    const r = await runCli(['run', '-c', world.configPath, '--json'], {
      env: world.env,
      cwd: world.tmp,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(jsonReport<RunReport>(r).warnings).toEqual([
      expect.stringMatching(/^notification webhook failed after 2 attempts/),
    ]);
  }, 90_000);
});
