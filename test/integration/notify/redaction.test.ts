// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
/**
 * End to end through the real pieces: a config with notification secrets,
 * the run's winston logger fed configSecrets(), a command target that prints
 * its own URL and token, and a failing webhook. Nothing secret reaches the
 * captured log output or a warning.
 */
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../../../src/config/index.js';
import { Redactor } from '../../../src/log/redact.js';
import { closeLogger, createLogger } from '../../../src/log.js';
import { sendNotifications } from '../../../src/notify/index.js';
import { ENV, VALID, writeConfig } from '../../unit/config/helpers.js';
import { failedNightReport } from './fixture.js';
import { type Recorder, startRecorder } from './recorder.js';

const open: Recorder[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

describe('notification secrets and the run logger', () => {
  it('URLs, paths and tokens are redacted from everything the logger writes', async () => {
    const broken = await startRecorder('fail');
    open.push(broken);
    const env = {
      ...ENV,
      HOOK_URL: `${broken.base}/hooks/s3cr3t-hook-path`,
      HOOK_TOKEN: 'bearer-t0ken-value',
      HC_URL: `${broken.base}/ping/uuid-0000-secret`,
    };
    const path = await writeConfig(
      `${VALID}notify:
  healthchecks: \${HC_URL}
  webhook: { url: '\${HOOK_URL}', bearer: '\${HOOK_TOKEN}', on: always }
  command:
    run: [${process.execPath}, -e, "console.log(process.argv[1], process.argv[2])", '\${HOOK_URL}', '\${HOOK_TOKEN}']
`,
    );
    const { config } = await loadConfig({ path, env, cwd: dirname(path) });
    let output = '';
    const stderr = new Writable({
      write(chunk, _enc, done) {
        output += String(chunk);
        done();
      },
    });
    const logger = createLogger({
      level: 'debug',
      stderr,
      isTty: false,
      redactor: new Redactor(configSecrets(config)),
    });
    const warnings = await sendNotifications(failedNightReport(), 1, config.notify, {
      logger,
      timeoutMs: 2000,
      retryDelayMs: 10,
    });
    await closeLogger(logger);
    // The webhook and healthchecks both hit the broken target; the command ran and printed.
    expect(warnings.sort()).toEqual([
      'notification healthchecks failed after 2 attempts: HTTP 500',
      'notification webhook failed after 2 attempts: HTTP 500',
    ]);
    expect(output).toContain('notify command');
    expect(output).toContain('[redacted]');
    for (const secret of ['s3cr3t-hook-path', 'bearer-t0ken-value', 'uuid-0000-secret'])
      expect(output).not.toContain(secret);
  });
});
