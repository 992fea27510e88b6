// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { ENV, tempDir, VALID, writeConfig } from './helpers.js';

async function load(text: string, env: NodeJS.ProcessEnv = ENV) {
  const path = await writeConfig(text);
  return loadConfig({ path, env, cwd: dirname(path) });
}

/** Loads `text`, expects a ConfigError, returns it with the file path. */
async function failure(text: string, env: NodeJS.ProcessEnv = ENV) {
  const path = await writeConfig(text);
  const err = await loadConfig({ path, env, cwd: dirname(path) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const e = err as ConfigError;
  expect(e.exitCode).toBe(2);
  expect(e.message).toContain(path);
  for (const secret of Object.values(env)) if (secret) expect(e.message).not.toContain(secret);
  return e;
}

describe('loadConfig: defaults and normalisation', () => {
  it('fills every default of docs/contract.md and resolves ${VAR}', async () => {
    const { config, warnings } = await load(VALID);
    expect(warnings).toEqual([]);
    expect(config.clusters).toEqual([
      {
        name: 'home',
        url: 'https://pve1.example.lan:8006',
        auth: { kind: 'token', tokenId: 'backup@pve!nightly', secret: 'tok-secret-1234' },
        tls: { insecure: false },
      },
    ]);
    expect(config.ftp).toEqual({
      host: 'nas.example.lan',
      port: 21,
      user: 'backup',
      password: 'ftp-pass-5678',
      secure: false,
      dir: '/disk1/backup/dump',
      insecure: false,
    });
    expect(config.backup).toEqual({
      guests: 'running',
      types: ['lxc', 'openvz'],
      exclude: [],
      storage: 'ftp-staging',
      mode: 'snapshot',
      compress: 'zstd',
      parallelNodes: 2,
      uploadAt: 'log-end',
    });
    expect(config.retention).toEqual({ keep: 10, weekly: 0, monthly: 0 });
  });

  it('accepts compress 0 as a number and normalises it to "0"', async () => {
    const { config } = await load(`${VALID}  compress: 0\n`);
    expect(config.backup.compress).toBe('0');
  });

  it('takes user + password as ticket auth and strips a trailing slash of the url', async () => {
    const text = VALID.replace('pve1.example.lan:8006', 'pve1.example.lan:8006/').replace(
      /token: .*\n.*secret: .*\n/,
      'user: root@pam\n      password: ${PVE_PASSWORD}\n',
    );
    const { config } = await load(text, { ...ENV, PVE_PASSWORD: 'pw-9999' });
    expect(config.clusters[0]!.auth).toEqual({
      kind: 'ticket',
      username: 'root@pam',
      password: 'pw-9999',
    });
    expect(config.clusters[0]!.url).toBe('https://pve1.example.lan:8006');
  });

  it('keeps explicit settings', async () => {
    const text = `${VALID.replace(
      'storage: ftp-staging',
      [
        'storage: ftp-staging',
        '  guests: all',
        '  types: [qemu, lxc]',
        '  exclude: [105, 101]',
        '  mode: stop',
        '  compress: gzip',
        '  parallelNodes: 4',
        '  uploadAt: backup-end',
      ].join('\n'),
    )}retention:\n  keep: 3\n`;
    const { config } = await load(text);
    expect(config.backup).toMatchObject({
      guests: 'all',
      types: ['qemu', 'lxc'],
      exclude: [101, 105],
      mode: 'stop',
      compress: 'gzip',
      parallelNodes: 4,
      uploadAt: 'backup-end',
    });
    expect(config.retention.keep).toBe(3);
  });
});

describe('loadConfig: errors name the file, the key path and what was expected', () => {
  it.each([
    ['retention:\n  keep: 0\n', 'retention.keep', 'from 1 to 1000'],
    ['retention:\n  keep: 1001\n', 'retention.keep', 'from 1 to 1000'],
    ['retention:\n  keep: 2.5\n', 'retention.keep', 'whole number'],
    ['retention:\n  keep: ten\n', 'retention.keep', 'whole number'],
  ])('%j → %s', async (extra, key, expected) => {
    const e = await failure(VALID + extra);
    expect(e.message).toContain(`${key}: `);
    expect(e.message).toContain(expected);
  });

  it('names the line of the offending key', async () => {
    const e = await failure(`${VALID}retention:\n  keep: 0\n`);
    expect(e.message).toMatch(/retention\.keep: .*\(line 15\)/);
  });

  it.each([
    [['  port: 0'], 'ftp.port', 'from 1 to 65535'],
    [['  port: 65536'], 'ftp.port', 'from 1 to 65535'],
  ])('ftp %j → %s', async (lines, key, expected) => {
    const e = await failure(
      VALID.replace('  user: backup', ['  user: backup', ...lines].join('\n')),
    );
    expect(e.message).toContain(`${key}: expected a whole number ${expected}`);
  });

  it.each([
    ['  parallelNodes: 0', 'backup.parallelNodes', 'from 1 to 64'],
    ['  parallelNodes: 65', 'backup.parallelNodes', 'from 1 to 64'],
    ['  exclude: [99]', 'backup.exclude[0]', 'from 100 to 999999999'],
    ['  exclude: [101, 1000000000]', 'backup.exclude[1]', 'from 100 to 999999999'],
    ['  mode: live', 'backup.mode', 'snapshot, suspend, stop'],
    ['  compress: xz', 'backup.compress', '0, gzip, lzo, zstd'],
    ['  guests: some', 'backup.guests', 'running, stopped, all'],
    ['  types: [lxc, docker]', 'backup.types[1]', 'lxc, openvz, qemu'],
    ['  types: []', 'backup.types', 'at least one'],
    ['  uploadAt: job-end', 'backup.uploadAt', 'log-end, backup-end'],
    ['  storage: "../x"', 'backup.storage', 'storage id'],
  ])('backup %j → %s', async (line, key, expected) => {
    const text = VALID.replace(/ {2}storage: ftp-staging\n/, '').replace(
      'backup:\n',
      `backup:\n${line.includes('storage') ? '' : '  storage: ftp-staging\n'}${line}\n`,
    );
    const e = await failure(text);
    expect(e.message).toContain(`${key}: `);
    expect(e.message).toContain(expected);
  });

  it('requires backup.storage', async () => {
    const e = await failure(VALID.replace('  storage: ftp-staging\n', '  mode: stop\n'));
    expect(e.message).toContain('backup.storage: is required');
  });

  it('lists several problems at once', async () => {
    const e = await failure(
      `${VALID}retention:\n  keep: 0\n`.replace('port', 'x').replace('nas.example.lan', 'nas/x'),
    );
    expect(e.message).toContain('retention.keep');
    expect(e.message).toContain('ftp.host');
  });

  it('takes an IPv6 NAS address bare and refuses brackets, as the hook renderer does', async () => {
    const { config } = await load(VALID.replace('nas.example.lan', "'fd00::5'"));
    expect(config.ftp.host).toBe('fd00::5');
    const e = await failure(VALID.replace('nas.example.lan', "'[fd00::5]'"));
    expect(e.message).toContain(
      'ftp.host: expected a host name or IP address, IPv6 without brackets',
    );
  });

  it('rejects an unknown key with a did-you-mean hint', async () => {
    const e = await failure(`${VALID}retention:\n  kep: 5\n`);
    expect(e.message).toContain("retention.kep: unknown key (did you mean 'keep'?)");
  });

  it('rejects unknown keys deep inside a cluster, with the index in the path', async () => {
    const e = await failure(VALID.replace('      token:', '      tokne:'));
    expect(e.message).toContain("clusters[0].auth.tokne: unknown key (did you mean 'token'?)");
  });

  it('offers no hint for a key unlike any known one', async () => {
    const e = await failure(`${VALID}zebra: 1\n`);
    expect(e.message).toContain('zebra: unknown key;');
    expect(e.message).not.toContain('did you mean');
  });

  it('reports a YAML syntax error with its position and without quoting the line', async () => {
    const e = await failure(`${VALID}ftp2: [unclosed\n  secret: hunter2-in-yaml\n`);
    expect(e.message).toMatch(/YAML syntax error at line \d+, column \d+/);
    expect(e.message).not.toContain('hunter2');
  });

  it('rejects duplicate keys (YAML would silently keep one)', async () => {
    const e = await failure(`${VALID}retention:\n  keep: 3\nretention:\n  keep: 4\n`);
    expect(e.message).toContain('YAML syntax error');
  });

  it('rejects an empty file', async () => {
    const e = await failure('');
    expect(e.message).toContain('expected a mapping');
  });
});

describe('loadConfig: environment variables', () => {
  it('names a missing variable and the key path, not other values', async () => {
    const e = await failure(VALID, { FTP_PASSWORD: 'ftp-pass-5678' });
    expect(e.message).toContain(
      'clusters[0].auth.secret: environment variable PVE_TOKEN_SECRET is not set',
    );
  });

  it('treats an empty variable as an error', async () => {
    const e = await failure(VALID, { ...ENV, FTP_PASSWORD: '' });
    expect(e.message).toContain('ftp.password: environment variable FTP_PASSWORD is empty');
  });

  it('substitutes inside a longer string and keeps $${ literal', async () => {
    // (a function replacement: a replacement string would turn $$ into $)
    const text = VALID.replace('dir: /disk1/backup/dump', () => 'dir: /${BASE}/$${x}');
    const { config } = await load(text, { ...ENV, BASE: 'vol1' });
    expect(config.ftp.dir).toBe('/vol1/${x}');
  });

  it('rejects a malformed reference', async () => {
    const e = await failure(VALID.replace('dir: /disk1/backup/dump', 'dir: /${1BAD}'));
    expect(e.message).toContain('ftp.dir: malformed ${...} reference');
  });
});

describe('loadConfig: secret and CA files', () => {
  it('reads secretFile and passwordFile relative to the config, trimming the trailing newline', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'token'), 'from-file-secret\n', { mode: 0o600 });
    await writeFile(join(d, 'ftppw'), 'ftp-file-pw\r\n', { mode: 0o600 });
    const path = join(d, 'config.yaml');
    await writeFile(
      path,
      VALID.replace('secret: ${PVE_TOKEN_SECRET}', 'secretFile: token').replace(
        'password: ${FTP_PASSWORD}',
        `passwordFile: ${join(d, 'ftppw')}`,
      ),
    );
    const { config, warnings } = await loadConfig({ path, env: {}, cwd: '/' });
    expect(config.clusters[0]!.auth).toMatchObject({ secret: 'from-file-secret' });
    expect(config.ftp.password).toBe('ftp-file-pw');
    expect(warnings).toEqual([]);
  });

  it('warns about a secret file others can read', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'token'), 'from-file-secret\n');
    await chmod(join(d, 'token'), 0o644);
    const path = join(d, 'config.yaml');
    await writeFile(path, VALID.replace('secret: ${PVE_TOKEN_SECRET}', 'secretFile: token'));
    const { warnings } = await loadConfig({ path, env: ENV, cwd: d });
    expect(warnings.join('\n')).toContain('clusters[0].auth.secretFile');
    expect(warnings.join('\n')).toContain('chmod 600');
  });

  it('names the key of a missing or empty secret file, never its content', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'empty'), '\n', { mode: 0o600 });
    await writeFile(join(d, 'multi'), 'line-one-secret\nline-two\n', { mode: 0o600 });
    const path = join(d, 'config.yaml');
    await writeFile(
      path,
      VALID.replace('secret: ${PVE_TOKEN_SECRET}', 'secretFile: nope').replace(
        'password: ${FTP_PASSWORD}',
        'passwordFile: multi',
      ),
    );
    const err = (await loadConfig({ path, env: ENV, cwd: d }).catch((e) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('clusters[0].auth.secretFile: cannot read');
    expect(err.message).toContain('ENOENT');
    expect(err.message).toContain('ftp.passwordFile:');
    expect(err.message).not.toContain('line-one-secret');

    await writeFile(path, VALID.replace('secret: ${PVE_TOKEN_SECRET}', 'secretFile: empty'));
    const err2 = (await loadConfig({ path, env: ENV, cwd: d }).catch((e) => e)) as ConfigError;
    expect(err2.message).toContain('clusters[0].auth.secretFile:');
    expect(err2.message).toContain('is empty');
  });

  it('reads tls.ca and ftp.ca as PEM text and refuses a non-PEM file', async () => {
    const d = await tempDir();
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await writeFile(join(d, 'ca.pem'), pem);
    await writeFile(join(d, 'junk.pem'), 'not a cert');
    const path = join(d, 'config.yaml');
    const text = VALID.replace(
      '      secret: ${PVE_TOKEN_SECRET}\n',
      '      secret: ${PVE_TOKEN_SECRET}\n    tls:\n      ca: ca.pem\n',
    ).replace('  user: backup\n', '  user: backup\n  secure: true\n  ca: CAFILE\n');
    await writeFile(path, text.replace('CAFILE', 'ca.pem'));
    const { config } = await loadConfig({ path, env: ENV, cwd: d });
    expect(config.clusters[0]!.tls.caPem).toBe(pem);
    expect(config.ftp.caPem).toBe(pem);

    await writeFile(path, text.replace('CAFILE', 'junk.pem'));
    const err = (await loadConfig({ path, env: ENV, cwd: d }).catch((e) => e)) as ConfigError;
    expect(err.message).toContain('ftp.ca:');
    expect(err.message).toContain('does not hold a PEM certificate');
  });
});

describe('loadConfig: search path', () => {
  const env = (over: NodeJS.ProcessEnv) => ({ ...ENV, HOME: '/nonexistent-home', ...over });

  it('uses ./pve-ftp-backup.yaml first, then $XDG_CONFIG_HOME', async () => {
    const cwd = await tempDir();
    const xdg = await tempDir();
    await mkdir(join(xdg, 'pve-ftp-backup'));
    await writeFile(join(xdg, 'pve-ftp-backup', 'config.yaml'), VALID);
    const r1 = await loadConfig({ env: env({ XDG_CONFIG_HOME: xdg }), cwd });
    expect(r1.path).toBe(join(xdg, 'pve-ftp-backup', 'config.yaml'));
    await writeFile(join(cwd, 'pve-ftp-backup.yaml'), VALID);
    const r2 = await loadConfig({ env: env({ XDG_CONFIG_HOME: xdg }), cwd });
    expect(r2.path).toBe(join(cwd, 'pve-ftp-backup.yaml'));
  });

  it('falls back to ~/.config when XDG_CONFIG_HOME is unset', async () => {
    const cwd = await tempDir();
    const home = await tempDir();
    await mkdir(join(home, '.config', 'pve-ftp-backup'), { recursive: true });
    await writeFile(join(home, '.config', 'pve-ftp-backup', 'config.yaml'), VALID);
    const r = await loadConfig({ env: { ...ENV, HOME: home }, cwd });
    expect(r.path).toBe(join(home, '.config', 'pve-ftp-backup', 'config.yaml'));
  });

  it('PVE_FTP_BACKUP_CONFIG beats the search path and -c beats both', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'pve-ftp-backup.yaml'), VALID);
    await writeFile(join(cwd, 'other.yaml'), VALID);
    await writeFile(join(cwd, 'third.yaml'), VALID);
    const r1 = await loadConfig({ env: env({ PVE_FTP_BACKUP_CONFIG: 'other.yaml' }), cwd });
    expect(r1.path).toBe(join(cwd, 'other.yaml'));
    const r2 = await loadConfig({
      path: 'third.yaml',
      env: env({ PVE_FTP_BACKUP_CONFIG: 'other.yaml' }),
      cwd,
    });
    expect(r2.path).toBe(join(cwd, 'third.yaml'));
  });

  it('a named file that does not exist is an error naming it and where the name came from', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'pve-ftp-backup.yaml'), VALID);
    const e = (await loadConfig({ path: 'missing.yaml', env: env({}), cwd }).catch(
      (x) => x,
    )) as Error;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(join(cwd, 'missing.yaml'));
    expect(e.message).toContain('-c');
  });

  it('none found: lists every place looked', async () => {
    const cwd = await tempDir();
    const xdg = await tempDir();
    const { existsSync } = await import('node:fs');
    // Only meaningful where the system-wide file is absent (it is on test machines).
    expect(existsSync('/etc/pve-ftp-backup/config.yaml')).toBe(false);
    const e = (await loadConfig({ env: env({ XDG_CONFIG_HOME: xdg }), cwd }).catch(
      (x) => x,
    )) as Error;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(join(cwd, 'pve-ftp-backup.yaml'));
    expect(e.message).toContain(join(xdg, 'pve-ftp-backup', 'config.yaml'));
    expect(e.message).toContain('/etc/pve-ftp-backup/config.yaml');
  });
});
