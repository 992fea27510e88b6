/**
 * `ftp.limitRate` from the tool's config to the node's hook.conf: validated
 * strictly at load (curl would refuse or misread a bad rate only on the node,
 * at backup time), and rendered as the hook's limit_rate.
 */
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { renderHookConfig } from '../../../src/hook/index.js';
import { ENV, VALID, writeConfig } from '../config/helpers.js';

async function load(rate: string) {
  const path = await writeConfig(
    VALID.replace(
      '  dir: /disk1/backup/dump\n',
      `  dir: /disk1/backup/dump\n  limitRate: ${rate}\n`,
    ),
  );
  return loadConfig({ path, env: ENV, cwd: dirname(path) });
}

describe('ftp.limitRate', () => {
  it.each(["'0'", '800k', '50M', '1G', "'1048576'"])(
    'accepts %s and hands it to hook.conf',
    async (rate) => {
      const { config } = await load(rate);
      const expected = rate.replaceAll("'", '');
      expect(config.ftp.limitRate).toBe(expected);
      const conf = renderHookConfig({
        node: 'pve1',
        storage: 'ftp-staging',
        uploadAt: 'log-end',
        ftp: config.ftp,
      });
      expect(conf).toContain(`\nlimit_rate=${expected}\n`);
    },
  );

  it.each(['50MB', "'5 M'", '1.5M', "''", "'-1'", '10kk'])(
    'refuses %s, naming the key',
    async (rate) => {
      const err = await load(rate).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('ftp.limitRate: expected bytes per second');
    },
  );

  it('means no cap when left out', async () => {
    const { config } = await load("'0'");
    expect(config.ftp.limitRate).toBe('0');
    const path = await writeConfig(VALID);
    const plain = await loadConfig({ path, env: ENV, cwd: dirname(path) });
    expect(plain.config.ftp.limitRate).toBeUndefined();
  });
});
