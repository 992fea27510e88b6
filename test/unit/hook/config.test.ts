import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  HookConfigError,
  type HookConfigInput,
  hookScriptPath,
  renderHookConfig,
} from '../../../src/hook/index.js';

const work = mkdtempSync(join(tmpdir(), 'pfb-hookconf-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const keys = [
  'node',
  'host',
  'port',
  'user',
  'password',
  'secure',
  'dir',
  'storage',
  'upload_at',
  'cafile',
  'insecure',
  'retries',
  'limit_rate',
] as const;
type Parsed = Record<(typeof keys)[number], string>;

let fileNo = 0;

/**
 * Runs the hook script's own parser (conf_read, via `sh`, the script sourced in
 * library mode) on `text` and returns what it read, or its error message.
 */
function parseWithScript(
  text: string,
): { ok: true; values: Parsed } | { ok: false; error: string } {
  fileNo += 1;
  const file = join(work, `hook-${fileNo}.conf`);
  writeFileSync(file, text);
  const printVars = keys.map((k) => `"$cf_${k}"`).join(' ');
  const program = `. "$1" || exit 9
if conf_read "$2"; then printf 'OK\\0'; printf '%s\\0' ${printVars}; else printf 'ERR\\0%s' "$conf_error"; fi`;
  const out = execFileSync('sh', ['-c', program, 'sh', hookScriptPath(), file], {
    env: { PVE_FTP_BACKUP_HOOK_LIB: '1' },
    cwd: work,
  }).toString('utf8');
  const parts = out.split('\0');
  if (parts[0] === 'ERR') return { ok: false, error: parts[1] ?? '' };
  const values = Object.fromEntries(keys.map((k, i) => [k, parts[i + 1] ?? ''])) as Parsed;
  return { ok: true, values };
}

function input(overrides: Partial<HookConfigInput['ftp']> = {}): HookConfigInput {
  return {
    node: 'pve1',
    storage: 'ftp-staging',
    uploadAt: 'log-end',
    ftp: {
      host: 'nas.example.lan',
      port: 2121,
      user: 'backup',
      password: 'secret',
      secure: false,
      dir: '/disk1/backup dump',
      ...overrides,
    },
  };
}

const nastyPasswords = [
  '$x',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, kept literal on purpose
  '${HOME}',
  '$(touch pwned)',
  '`touch pwned`',
  `it's "quoted"`,
  ' spaces  inside and around ',
  '#not-a-comment',
  'a=b=c',
  'back\\slash\\',
  'ünïcödé ✓',
  '-rf',
];

describe('renderHookConfig → the hook script parser', () => {
  it.each(nastyPasswords)('round-trips the password %j unchanged and never executes it', (pw) => {
    const parsed = parseWithScript(renderHookConfig(input({ password: pw, user: pw })));
    expect(parsed).toMatchObject({ ok: true, values: { password: pw, user: pw } });
    expect(existsSync(join(work, 'pwned'))).toBe(false);
  });

  it('round-trips every field, with the defaults the script applies', () => {
    const parsed = parseWithScript(
      renderHookConfig({
        ...input({
          secure: true,
          caFile: '/etc/pve-ftp-backup/nas ca.pem',
          port: 990,
          limitRate: '50M',
        }),
        uploadAt: 'backup-end',
      }),
    );
    expect(parsed).toEqual({
      ok: true,
      values: {
        node: 'pve1',
        host: 'nas.example.lan',
        port: '990',
        user: 'backup',
        password: 'secret',
        secure: 'yes',
        dir: '/disk1/backup dump',
        storage: 'ftp-staging',
        upload_at: 'backup-end',
        cafile: '/etc/pve-ftp-backup/nas ca.pem',
        insecure: 'no',
        retries: '3',
        limit_rate: '50M',
      },
    });
  });

  it('round-trips any password without CR, LF or NUL (property)', () => {
    const unit = fc.oneof(
      fc.constantFrom('$', '`', '"', "'", ' ', '#', '=', '\\', '(', ')', ';', '|', '&', '*'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the renderer refuses these
        fc.string({ unit, minLength: 1, maxLength: 40 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)),
        (pw) => {
          const parsed = parseWithScript(renderHookConfig(input({ password: pw })));
          expect(parsed).toMatchObject({ ok: true, values: { password: pw } });
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('renderHookConfig refusals', () => {
  it.each(['a\nb', 'a\rb', 'a\0b', 'trailing\n', 'tab\there', 'del\x7f'])(
    'refuses the password %j',
    (pw) => {
      expect(() => renderHookConfig(input({ password: pw }))).toThrow(HookConfigError);
    },
  );

  it('names the key but never shows the password it refuses', () => {
    let message = '';
    try {
      renderHookConfig(input({ password: 'TOPSECRET\nmore' }));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('password');
    expect(message).not.toContain('TOPSECRET');
  });

  it.each<[string, HookConfigInput]>([
    ['a node name with a slash', { ...input(), node: 'pve1/../x' }],
    ['an empty node name', { ...input(), node: '' }],
    ['a storage id with a space', { ...input(), storage: 'ftp staging' }],
    ['a relative dir', input({ dir: 'backup' })],
    ['a dir with ..', input({ dir: '/backup/../etc' })],
    ['a port of 0', input({ port: 0 })],
    ['a port of 70000', input({ port: 70000 })],
    ['a host with a space', input({ host: 'nas lan' })],
    ['a host with user@', input({ host: 'me@nas' })],
    ['an empty password', input({ password: '' })],
    ['a relative CA file', input({ caFile: 'ca.pem' })],
    ['a user with a newline', input({ user: 'a\nb' })],
  ])('refuses %s', (_what, bad) => {
    expect(() => renderHookConfig(bad)).toThrow(HookConfigError);
  });

  it.each(['50 M', '1.5M', 'M', '-1', '5MB', '10kk'])(
    'refuses the rate cap %j, naming limit_rate',
    (rate) => {
      expect(() => renderHookConfig(input({ limitRate: rate }))).toThrow(/limit_rate/);
    },
  );

  it('writes no rate cap (0) unless asked', () => {
    expect(renderHookConfig(input())).toMatch(/^limit_rate=0$/m);
    expect(renderHookConfig(input({ limitRate: '800k' }))).toMatch(/^limit_rate=800k$/m);
  });

  it('writes insecure only when asked', () => {
    expect(renderHookConfig(input())).not.toMatch(/^insecure=/m);
    expect(renderHookConfig(input({ secure: true, insecure: true }))).toMatch(/^insecure=yes$/m);
  });
});

describe('the hook script parser on hand-written files', () => {
  const base = 'node=pve1\nhost=nas\nuser=u\npassword=p\ndir=/d\nstorage=s1\n';

  it('ignores comments and blank lines, drops a CR of CRLF files, lets a later key win', () => {
    const parsed = parseWithScript(
      `# comment\r\n\r\n${base.replaceAll('\n', '\r\n')}port=21\nport=2121\nsecure=true`,
    );
    expect(parsed).toMatchObject({
      ok: true,
      values: { host: 'nas', password: 'p', port: '2121', secure: 'yes', upload_at: 'log-end' },
    });
  });

  it.each([
    ['an unknown key', `${base}pasword=x\n`, "unknown key 'pasword'"],
    ['a line without =', `${base}justtext\n`, 'expected key=value'],
    ['a missing password', base.replace('password=p\n', ''), 'password is missing'],
    ['a bad port', `${base}port=21a\n`, 'port must be a whole number'],
    ['a port out of range', `${base}port=70000\n`, 'port must be 1-65535'],
    ['a bad boolean', `${base}secure=maybe\n`, 'secure must be yes or no'],
    ['a bad upload_at', `${base}upload_at=job-end\n`, 'upload_at must be'],
    ['a relative dir', base.replace('dir=/d', 'dir=d'), 'dir must be an absolute path'],
    ['a node with ..', base.replace('node=pve1', 'node=..'), 'node is not a plain name'],
    ['a rate with a unit curl lacks', `${base}limit_rate=5MB\n`, 'limit_rate must be'],
    ['a rate with a space', `${base}limit_rate=5 M\n`, 'limit_rate must be'],
    ['an empty rate', `${base}limit_rate=\n`, 'limit_rate must be'],
    ['a rate without a number', `${base}limit_rate=k\n`, 'limit_rate must be'],
  ])('reports %s', (_what, text, expected) => {
    const parsed = parseWithScript(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(expected);
  });

  it('reports a missing file', () => {
    fileNo += 1;
    const missing = join(work, 'nope.conf');
    const out = execFileSync(
      'sh',
      [
        '-c',
        '. "$1"; conf_read "$2" || printf "%s" "$conf_error"',
        'sh',
        hookScriptPath(),
        missing,
      ],
      { env: { PVE_FTP_BACKUP_HOOK_LIB: '1' } },
    ).toString();
    expect(out).toBe(`cannot read the config file ${missing}`);
  });
});
