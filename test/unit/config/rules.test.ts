// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, loadConfig } from '../../../src/config/index.js';
import { didYouMean, editDistance, formatPath } from '../../../src/config/issues.js';
import { ConfigError } from '../../../src/errors.js';
import { ENV, VALID, writeConfig } from './helpers.js';

async function attempt(text: string, env: NodeJS.ProcessEnv = ENV) {
  const path = await writeConfig(text);
  return loadConfig({ path, env, cwd: dirname(path) }).then(
    (r) => ({ ok: true as const, ...r }),
    (e: unknown) => {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain(path);
      for (const v of Object.values(env)) if (v) expect(msg).not.toContain(v);
      return { ok: false as const, message: msg };
    },
  );
}

async function expectError(text: string, ...parts: string[]) {
  const r = await attempt(text);
  expect(r.ok).toBe(false);
  if (!r.ok) for (const p of parts) expect(r.message).toContain(p);
}

const AUTH = / {4}auth:\n {6}token: .*\n {6}secret: .*\n/;
const withAuth = (lines: string[]) =>
  VALID.replace(AUTH, `    auth:\n${lines.map((l) => `      ${l}\n`).join('')}`);

describe('auth: token + secret or user + password, not both', () => {
  it('refuses token and user together', async () => {
    await expectError(
      withAuth(['token: a@pve!b', 'secret: ${PVE_TOKEN_SECRET}', 'user: root@pam', 'password: x1']),
      'clusters[0].auth: use either token + secret',
    );
  });
  it('refuses a token without its secret', async () => {
    await expectError(
      withAuth(['token: a@pve!b']),
      'clusters[0].auth.secret: is required with token',
    );
  });
  it('refuses a password without a user', async () => {
    await expectError(
      withAuth(['password: pw123']),
      'clusters[0].auth.user: is required with password',
    );
  });
  it('refuses secret and secretFile together', async () => {
    await expectError(
      withAuth(['token: a@pve!b', 'secret: s1234', 'secretFile: /x']),
      'clusters[0].auth.secretFile: use either secret or secretFile',
    );
  });
  it('refuses an empty auth', async () => {
    await expectError(
      withAuth(['{}']).replace('    auth:\n      {}\n', '    auth: {}\n'),
      'clusters[0].auth: is required',
    );
  });
  it('checks the token id and user formats', async () => {
    await expectError(
      withAuth(['token: backup-nightly', 'secret: s1234']),
      'clusters[0].auth.token: expected an API token id',
    );
    await expectError(
      withAuth(['user: root', 'password: p1234']),
      'clusters[0].auth.user: expected user@realm',
    );
  });
});

describe('clusters', () => {
  it.each([
    ['http://pve1:8006', 'must start with https://'],
    ['ftp://pve1', 'must start with https://'],
    ['pve1:8006', 'https://'],
    ['https://root:pw@pve1:8006', 'must not contain credentials'],
    ['https://pve1:8006/api2/json', 'expected only https://host:port'],
  ])('refuses url %s', async (url, expected) => {
    await expectError(
      VALID.replace('https://pve1.example.lan:8006', url),
      'clusters[0].url:',
      expected,
    );
  });

  it('does not echo credentials from a url', async () => {
    const r = await attempt(
      VALID.replace('https://pve1.example.lan:8006', 'https://root:sekrit77@pve1'),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toContain('sekrit77');
  });

  it('refuses duplicate cluster names', async () => {
    const cluster = VALID.slice(VALID.indexOf('  - name'), VALID.indexOf('ftp:'));
    await expectError(
      VALID.replace('ftp:', `${cluster}ftp:`),
      "clusters[1].name: duplicate cluster name 'home' (also clusters[0].name)",
    );
  });

  it('checks the fingerprint format and normalises it to upper case', async () => {
    const good = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join(':');
    const tls = (fp: string) => VALID.replace('ftp:', `    tls:\n      fingerprint: "${fp}"\nftp:`);
    const r = await attempt(tls(good));
    expect(r.ok && r.config.clusters[0]!.tls.fingerprint).toBe(good.toUpperCase());
    await expectError(
      tls(good.slice(3)),
      'clusters[0].tls.fingerprint: expected a SHA-256 fingerprint',
    );
    await expectError(tls(good.replaceAll(':', '')), 'clusters[0].tls.fingerprint');
    await expectError(tls(`${good.slice(0, -2)}zz`), 'clusters[0].tls.fingerprint');
  });

  it('warns at every load when tls.insecure is on, and refuses it with a fingerprint', async () => {
    const r = await attempt(VALID.replace('ftp:', '    tls:\n      insecure: true\nftp:'));
    expect(r.ok && r.warnings.join('\n')).toContain('clusters[0].tls.insecure');
    const fp = Array(32).fill('AB').join(':');
    await expectError(
      VALID.replace('ftp:', `    tls:\n      insecure: true\n      fingerprint: "${fp}"\nftp:`),
      'clusters[0].tls.insecure: cannot be combined',
    );
  });

  it('validates cluster node names (they become NAS paths)', async () => {
    const r = await attempt(VALID.replace('ftp:', '    nodes: [pve1, pve2]\nftp:'));
    expect(r.ok && r.config.clusters[0]!.nodes).toEqual(['pve1', 'pve2']);
    await expectError(
      VALID.replace('ftp:', '    nodes: [pve1, "../x"]\nftp:'),
      'clusters[0].nodes[1]: expected a node',
    );
  });

  it('needs at least one cluster', async () => {
    await expectError(
      VALID.replace(/clusters:[\s\S]*?ftp:/, 'clusters: []\nftp:'),
      'clusters: must list at least one',
    );
  });
});

describe('ftp', () => {
  it.each([
    ['dir: /disk1/backup/dump', 'dir: /disk1/../etc', "ftp.dir: must not contain '..'"],
    ['dir: /disk1/backup/dump', 'dir: /disk1/./x', "ftp.dir: must not contain '..' (or '.')"],
    ['dir: /disk1/backup/dump', 'dir: backup/dump', 'ftp.dir: must be an absolute path'],
    [
      'dir: /disk1/backup/dump',
      'dir: "/disk1\\nDELE x"',
      'ftp.dir: dir must not contain CR, LF or NUL',
    ],
    ['user: backup', 'user: "backup\\r\\nPASS x"', 'ftp.user: user must not contain CR, LF or NUL'],
    ['host: nas.example.lan', 'host: "nas\\u0000"', 'ftp.host:'],
    ['host: nas.example.lan', 'host: ftp://nas', 'ftp.host: expected a host name'],
    [
      'password: ${FTP_PASSWORD}',
      'password: "a\\nb"',
      'ftp.password: password must not contain CR, LF or NUL',
    ],
  ])('refuses %s → %s', async (from, to, expected) => {
    await expectError(VALID.replace(from, to), expected);
  });

  it('does not quote a bad password', async () => {
    const r = await attempt(VALID, { ...ENV, FTP_PASSWORD: 'pass\nword-leak' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toContain('word-leak');
  });

  it('needs a password or passwordFile, not both', async () => {
    await expectError(
      VALID.replace('  password: ${FTP_PASSWORD}\n', ''),
      'ftp.password: is required',
    );
    await expectError(
      VALID.replace(
        '  password: ${FTP_PASSWORD}\n',
        '  password: ${FTP_PASSWORD}\n  passwordFile: /x\n',
      ),
      'ftp.passwordFile: use either',
    );
  });

  it('ca and insecure only with secure: true; insecure FTPS is warned about', async () => {
    await expectError(
      VALID.replace('  user: backup\n', '  user: backup\n  insecure: true\n'),
      'ftp.insecure: only means something',
    );
    const r = await attempt(
      VALID.replace('  user: backup\n', '  user: backup\n  secure: true\n  insecure: true\n'),
    );
    expect(r.ok && r.warnings).toEqual([
      'ftp.insecure: the FTPS certificate of the NAS is not verified',
    ]);
  });

  it('strips trailing slashes of dir but keeps the root', async () => {
    const r1 = await attempt(VALID.replace('dir: /disk1/backup/dump', 'dir: /disk1/backup//'));
    expect(r1.ok && r1.config.ftp.dir).toBe('/disk1/backup');
    const r2 = await attempt(VALID.replace('dir: /disk1/backup/dump', 'dir: /'));
    expect(r2.ok && r2.config.ftp.dir).toBe('/');
  });
});

describe('issue helpers', () => {
  it('formats key paths', () => {
    expect(formatPath(['clusters', 0, 'auth', 'secret'])).toBe('clusters[0].auth.secret');
    expect(formatPath(['backup', 'exclude', 2])).toBe('backup.exclude[2]');
    expect(formatPath([])).toBe('(top level)');
  });
  it('edit distance counts a swap as one', () => {
    expect(editDistance('tokne', 'token')).toBe(1);
    expect(editDistance('kep', 'keep')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
    expect(editDistance('', 'ab')).toBe(2);
  });
  it('suggests only plausible typos', () => {
    expect(didYouMean('parallelnodes', ['parallelNodes', 'storage'])).toBe('parallelNodes');
    expect(didYouMean('passwrdFile', ['password', 'passwordFile'])).toBe('passwordFile');
    expect(didYouMean('zebra', ['keep'])).toBeUndefined();
  });
});

describe('configJsonSchema', () => {
  it('is derived from the validator: same keys, defaults, bounds, strictness', () => {
    const schema = configJsonSchema();
    const parsed = JSON.parse(JSON.stringify(schema));
    expect(parsed.type).toBe('object');
    expect(parsed.required).toEqual(expect.arrayContaining(['clusters', 'ftp', 'backup']));
    expect(parsed.required).not.toContain('retention');
    expect(parsed.additionalProperties).toBe(false);
    const keep = parsed.properties.retention.properties.keep;
    expect([keep.minimum, keep.maximum, keep.default]).toEqual([1, 1000, 10]);
    const backup = parsed.properties.backup;
    expect(backup.required).toEqual(['storage']);
    expect(Object.keys(backup.properties).sort()).toEqual(
      [
        'compress',
        'exclude',
        'guests',
        'mode',
        'parallelNodes',
        'storage',
        'types',
        'uploadAt',
      ].sort(),
    );
    const auth = parsed.properties.clusters.items.properties.auth;
    expect(Object.keys(auth.properties)).toContain('secretFile');
    expect(auth.additionalProperties).toBe(false);
  });
});
