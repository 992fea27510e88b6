// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../../src/config/duration.js';
import { configJsonSchema, configSecrets, loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { ENV, VALID, writeConfig } from '../config/helpers.js';

const NOTIFY_ENV = {
  ...ENV,
  HC_UUID: 'hc-uuid-0a1b2c3d',
  NTFY_TOKEN: 'tk_ntfy_secret_99',
  HOOK_TOKEN: 'hook-bearer-77',
};

const WITH_NOTIFY = `${VALID}notify:
  healthchecks: https://hc.example/ping/\${HC_UUID}
  # In a { flow mapping } a \${VAR} must be quoted: its { would open another mapping.
  ntfy: { url: http://ntfy.lan/backups-topic-xyz, token: '\${NTFY_TOKEN}' }
  webhook: { url: https://hooks.example/pve-backup, bearer: '\${HOOK_TOKEN}', on: always }
  command: { run: [/usr/local/bin/backup-notify, --to, ops] }
metrics:
  textfile: /var/lib/prometheus/node-exporter/pve_ftp_backup.prom
status:
  maxAge: 1d2h
`;

async function load(text: string, env: NodeJS.ProcessEnv = NOTIFY_ENV) {
  const path = await writeConfig(text);
  return loadConfig({ path, env, cwd: dirname(path) });
}

async function failure(text: string): Promise<string> {
  const err = await load(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
}

describe('config: notify, metrics, status', () => {
  it('reads every notify target, defaults on: to failure, parses maxAge', async () => {
    const { config } = await load(WITH_NOTIFY);
    expect(config.notify).toEqual({
      healthchecks: 'https://hc.example/ping/hc-uuid-0a1b2c3d',
      ntfy: { url: 'http://ntfy.lan/backups-topic-xyz', token: 'tk_ntfy_secret_99', on: 'failure' },
      webhook: { url: 'https://hooks.example/pve-backup', bearer: 'hook-bearer-77', on: 'always' },
      command: { run: ['/usr/local/bin/backup-notify', '--to', 'ops'], on: 'failure' },
    });
    expect(config.metrics).toEqual({
      textfile: '/var/lib/prometheus/node-exporter/pve_ftp_backup.prom',
    });
    expect(config.status).toEqual({ maxAgeSeconds: 26 * 3600 });
  });

  it('without the keys: no notification, no textfile, maxAge 26h', async () => {
    const { config } = await load(VALID);
    expect(config.notify).toEqual({});
    expect(config.metrics).toEqual({});
    expect(config.status).toEqual({ maxAgeSeconds: 26 * 3600 });
  });

  it('registers URLs, their paths and tokens as secrets for the log redaction', async () => {
    const { config } = await load(WITH_NOTIFY);
    const secrets = configSecrets(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        'https://hc.example/ping/hc-uuid-0a1b2c3d',
        '/ping/hc-uuid-0a1b2c3d',
        'http://ntfy.lan/backups-topic-xyz',
        '/backups-topic-xyz',
        'tk_ntfy_secret_99',
        'https://hooks.example/pve-backup',
        'hook-bearer-77',
      ]),
    );
    // The command's argv is not a secret: it is logged when it fails.
    expect(secrets).not.toContain('ops');
  });

  it('refuses a URL that is not http(s), naming the key and not the value', async () => {
    const msg = await failure(
      `${VALID}notify:\n  webhook: { url: 'ftp://hooks.example/x-secret' }\n`,
    );
    expect(msg).toContain('notify.webhook.url: expected an http:// or https:// URL');
    expect(msg).not.toContain('x-secret');
  });

  it('refuses a bad on:, an empty command and a bad duration', async () => {
    expect(
      await failure(`${VALID}notify:\n  ntfy: { url: https://n.example/t, on: sometimes }\n`),
    ).toContain('notify.ntfy.on');
    expect(await failure(`${VALID}notify:\n  command: { run: [] }\n`)).toContain(
      'notify.command.run: must name the program to run',
    );
    expect(await failure(`${VALID}status:\n  maxAge: 26 hours\n`)).toContain(
      'status.maxAge: expected a duration like 26h',
    );
  });

  it('suggests the key meant for a misspelt one', async () => {
    const msg = await failure(`${VALID}notify:\n  webhok: { url: https://h.example/x }\n`);
    expect(msg).toContain('notify');
    expect(msg).toContain('webhook');
  });
});

describe('JSON Schema of the new keys', () => {
  it('lists notify targets, on: with its default, and maxAge as a string defaulting to 26h', () => {
    const schema = JSON.parse(JSON.stringify(configJsonSchema()));
    const notify = schema.properties.notify;
    expect(Object.keys(notify.properties).sort()).toEqual([
      'command',
      'healthchecks',
      'ntfy',
      'webhook',
    ]);
    expect(notify.properties.ntfy.properties.on).toMatchObject({
      enum: ['always', 'failure'],
      default: 'failure',
    });
    expect(schema.properties.status.properties.maxAge).toMatchObject({
      type: 'string',
      default: '26h',
    });
    expect(schema.required).not.toContain('notify');
  });
});

describe('parseDurationSeconds', () => {
  it.each([
    ['26h', 93_600],
    ['90m', 5400],
    ['1d12h', 129_600],
    ['2w', 1_209_600],
    ['45s', 45],
  ])('%s = %d s', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });
  it.each(['', '26', 'h', '0h', '1.5h', '26 hours', '-1h', '1y'])('refuses %j', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
