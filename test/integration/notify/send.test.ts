/**
 * The notifications against real HTTP targets on 127.0.0.1 that record what
 * they got, and real programs for the command target. Bounds are shortened
 * through the options so a hanging target costs well under two seconds.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../../src/config/types.js';
import { pingStart, sendNotifications } from '../../../src/notify/index.js';
import { failedNightReport } from './fixture.js';
import { captureLogger, closedPort, type Recorder, startRecorder } from './recorder.js';

const HC_PATH = '/ping/5f1e-hc-uuid-secret';
const NTFY_TOKEN = 'tk_ntfy_secret_token';
const HOOK_BEARER = 'hook-bearer-secret';
const FAST = { timeoutMs: 300, retryDelayMs: 20 };

const open: Recorder[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function target(behaviour: 'ok' | 'fail' | 'hang'): Promise<Recorder> {
  const r = await startRecorder(behaviour);
  open.push(r);
  return r;
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pfb-notify-'));
  dirs.push(d);
  return d;
}

/** Nothing secret may appear in a warning or a log line. */
function expectNoSecret(texts: string[], ...secrets: string[]): void {
  for (const t of texts) for (const s of secrets) expect(t).not.toContain(s);
}

describe('healthchecks', () => {
  it('pings /start, then the bare URL with the summary as body on exit 0', async () => {
    const hc = await target('ok');
    const notify: NotifyConfig = { healthchecks: `${hc.base}${HC_PATH}` };
    const { logger } = captureLogger();
    expect(await pingStart(notify, { logger, ...FAST })).toEqual([]);
    expect(await sendNotifications(failedNightReport(), 0, notify, { logger, ...FAST })).toEqual(
      [],
    );
    expect(hc.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${HC_PATH}/start`,
      `POST ${HC_PATH}`,
    ]);
    expect(hc.requests[1]?.body).toContain('run run-2026-12-04T01-00');
  });

  it('reports a failed run as /<exit code>', async () => {
    const hc = await target('ok');
    const { logger } = captureLogger();
    await sendNotifications(
      failedNightReport(),
      1,
      { healthchecks: `${hc.base}${HC_PATH}/` },
      { logger, ...FAST },
    );
    expect(hc.requests.map((r) => r.path)).toEqual([`${HC_PATH}/1`]);
    expect(hc.requests[0]?.body).toContain('102 (db): failed: vzdump task ended with ERROR');
  });
});

describe('ntfy, webhook and on:', () => {
  it('on failure: ntfy gets title, priority, tags, token; the webhook the JSON report', async () => {
    const ntfy = await target('ok');
    const hook = await target('ok');
    const { logger } = captureLogger();
    const report = failedNightReport();
    const warnings = await sendNotifications(
      report,
      1,
      {
        ntfy: { url: `${ntfy.base}/backups`, token: NTFY_TOKEN, on: 'failure' },
        webhook: { url: `${hook.base}/pve-backup`, bearer: HOOK_BEARER, on: 'always' },
      },
      { logger, ...FAST },
    );
    expect(warnings).toEqual([]);
    const n = ntfy.requests[0];
    expect(n?.path).toBe('/backups');
    expect(n?.headers.title).toBe(
      'pve-ftp-backup: backup FAILED (exit 1): 1 saved, 1 failed, 0 not started',
    );
    expect(n?.headers.priority).toBe('4');
    expect(n?.headers.tags).toBe('warning,backup-failed');
    expect(n?.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    expect(n?.body).toContain('home/pve1 102 (db): failed');
    const h = hook.requests[0];
    expect(h?.method).toBe('POST');
    expect(h?.headers['content-type']).toBe('application/json');
    expect(h?.headers.authorization).toBe(`Bearer ${HOOK_BEARER}`);
    expect(JSON.parse(h?.body ?? '')).toEqual(report);
  });

  it('on exit 0 only the `always` targets go out', async () => {
    const ntfy = await target('ok');
    const hook = await target('ok');
    const { logger } = captureLogger();
    await sendNotifications(
      failedNightReport(),
      0,
      {
        ntfy: { url: `${ntfy.base}/backups`, on: 'failure' },
        webhook: { url: `${hook.base}/x`, on: 'always' },
      },
      { logger, ...FAST },
    );
    expect(ntfy.requests).toHaveLength(0);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('failures are warnings, bounded, and never leak a secret', () => {
  it('a target answering 500 is tried twice, then a warning; the others still go out', async () => {
    const broken = await target('fail');
    const hc = await target('ok');
    const { logger, lines } = captureLogger();
    const warnings = await sendNotifications(
      failedNightReport(),
      1,
      {
        healthchecks: `${hc.base}${HC_PATH}`,
        webhook: { url: `${broken.base}/hook-path-secret`, bearer: HOOK_BEARER, on: 'failure' },
      },
      { logger, ...FAST },
    );
    expect(broken.requests).toHaveLength(2);
    expect(hc.requests).toHaveLength(1);
    expect(warnings).toEqual(['notification webhook failed after 2 attempts: HTTP 500']);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expectNoSecret([...warnings, ...lines], broken.base, 'hook-path-secret', HOOK_BEARER);
  });

  it('a target that never answers is given up at the bound (and retried once)', async () => {
    const hang = await target('hang');
    const { logger, lines } = captureLogger();
    const started = Date.now();
    const warnings = await sendNotifications(
      failedNightReport(),
      1,
      { ntfy: { url: `${hang.base}/topic-secret`, token: NTFY_TOKEN, on: 'failure' } },
      { logger, ...FAST },
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2 * FAST.timeoutMs);
    expect(elapsed).toBeLessThan(2000);
    expect(hang.requests).toHaveLength(2);
    expect(warnings).toEqual(['notification ntfy failed after 2 attempts: no answer within 0.3 s']);
    expectNoSecret([...warnings, ...lines], hang.base, 'topic-secret', NTFY_TOKEN);
  });

  it('a refused connection names the error code, not the URL', async () => {
    const port = await closedPort();
    const { logger, lines } = captureLogger();
    const warnings = await pingStart(
      { healthchecks: `http://127.0.0.1:${port}${HC_PATH}` },
      { logger, ...FAST },
    );
    expect(warnings).toEqual(['notification healthchecks failed after 2 attempts: ECONNREFUSED']);
    expectNoSecret([...warnings, ...lines], HC_PATH, String(port));
  });

  it('the caller’s signal cuts a hanging target short', async () => {
    const hang = await target('hang');
    const { logger } = captureLogger();
    const started = Date.now();
    const warnings = await sendNotifications(
      failedNightReport(),
      1,
      { webhook: { url: `${hang.base}/x`, on: 'failure' } },
      { logger, timeoutMs: 10_000, retryDelayMs: 20, signal: AbortSignal.timeout(200) },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(warnings).toEqual(['notification webhook failed after 1 attempt: aborted']);
  });
});

describe('command', () => {
  it('gets the JSON report on stdin; its output is logged', async () => {
    const dir = await tempDir();
    const out = join(dir, 'stdin.json');
    const script = join(dir, 'notify.mjs');
    await writeFile(
      script,
      `import { writeFileSync, readFileSync } from 'node:fs';
       writeFileSync(process.argv[2], readFileSync(0));
       console.log('sent to ' + process.argv[3]);`,
    );
    const { logger, lines } = captureLogger();
    const report = failedNightReport();
    const warnings = await sendNotifications(
      report,
      1,
      { command: { run: [process.execPath, script, out, 'ops'], on: 'failure' } },
      { logger, ...FAST, timeoutMs: 5000 },
    );
    expect(warnings).toEqual([]);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(report);
    expect(lines).toContainEqual(
      expect.stringMatching(/^info notify command .* stdout: sent to ops$/),
    );
  });

  it('a failing command is retried once; its stderr is logged and the exit code warned', async () => {
    const dir = await tempDir();
    const count = join(dir, 'count');
    const { logger, lines } = captureLogger();
    const warnings = await sendNotifications(
      failedNightReport(),
      3,
      {
        command: {
          run: [
            process.execPath,
            '-e',
            `require('fs').appendFileSync(${JSON.stringify(count)}, 'x'); console.error('mail relay down'); process.exit(3)`,
          ],
          on: 'failure',
        },
      },
      { logger, ...FAST, timeoutMs: 5000 },
    );
    expect(await readFile(count, 'utf8')).toBe('xx');
    expect(warnings).toEqual([
      'notification command failed after 2 attempts: ended with exit code 3',
    ]);
    expect(lines.filter((l) => l.includes('stderr: mail relay down'))).toHaveLength(2);
  });

  it('a hanging command is killed at the bound', async () => {
    const dir = await tempDir();
    const pids = join(dir, 'pids');
    const { logger } = captureLogger();
    const started = Date.now();
    const warnings = await sendNotifications(
      failedNightReport(),
      1,
      {
        command: {
          run: [
            process.execPath,
            '-e',
            `require('fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`,
          ],
          on: 'always',
        },
      },
      // A bound long enough for the child to start and record its pid on a busy machine.
      { logger, ...FAST, timeoutMs: 1500 },
    );
    // Far below the 2 × 10 s of the default bound.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(warnings).toEqual([
      'notification command failed after 2 attempts: did not finish within 1.5 s (killed)',
    ]);
    const started2 = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    expect(started2).toHaveLength(2);
    // Even one that ignores SIGTERM is gone (KILL after the grace).
    for (const pid of started2) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a program that does not exist is one attempt and a warning', async () => {
    const { logger } = captureLogger();
    const warnings = await sendNotifications(
      failedNightReport(),
      1,
      { command: { run: ['/nonexistent/backup-notify'], on: 'failure' } },
      { logger, ...FAST },
    );
    expect(warnings).toEqual([
      'notification command failed after 1 attempt: cannot start /nonexistent/backup-notify (ENOENT)',
    ]);
  });
});
