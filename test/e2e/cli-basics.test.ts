// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
/**
 * The built CLI's shell: help, usage errors, config errors, `config schema`
 * and `hook`. Nothing here touches the network.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, runCli } from './support/cli.js';

const SECRET = 'e2e-token-secret-4242';
const FTP_PW = 'e2e-ftp-pw-1717';
const CONFIG = `clusters:
  - name: home
    url: https://127.0.0.1:8006
    auth:
      token: backup@pve!nightly
      secret: \${PVE_TOKEN_SECRET}
ftp:
  host: 127.0.0.1
  user: backup
  password: \${FTP_PASSWORD}
  dir: /backup/dump
backup:
  storage: ftp-staging
`;

let dir: string;
const env = () => ({
  PVE_TOKEN_SECRET: SECRET,
  FTP_PASSWORD: FTP_PW,
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, 'xdg'),
});
const cli = (args: string[]) => runCli(args, { env: env(), cwd: dir, timeoutMs: 20_000 });

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'pfb-cli-basics-'));
  await writeFile(join(dir, 'good.yaml'), CONFIG);
  await writeFile(join(dir, 'bad.yaml'), `${CONFIG}retention:\n  keep: 0\n`);
}, 130_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('built CLI basics', () => {
  it('--help lists every command; exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'list', 'generations', 'hook', 'config', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`pve-ftp-backup ${c}\\b`));
    }
  });

  it('run --help shows every flag of docs/contract.md and examples', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--config',
      '--node',
      '--vmid',
      '--guests',
      '--dry-run',
      '--json',
      '--rotate',
      '--break-lock',
      '--log-file',
      '--verbose',
      '--quiet',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('Examples:');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [['run', '--bogus'], 'Unknown argument'],
    [['run', '--guests', 'some'], 'Invalid values'],
    [['run', '--vmid', 'abc'], '--vmid abc: expected a guest id'],
    [['frobnicate'], 'Unknown argument'],
    [[], 'name a command'],
    [['run', '-q', '-v'], '-q and -v exclude each other'],
  ])('usage error %j → exit 2 with the message', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('bad config → exit 2 naming the file and the key, no secret', async () => {
    const r = await cli(['list', '-c', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(dir, 'bad.yaml'));
    expect(r.stderr).toContain('retention.keep: expected a whole number from 1 to 1000');
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).not.toContain(FTP_PW);
  });

  it('no config anywhere → exit 2 listing the places looked', async () => {
    const r = await cli(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(dir, 'pve-ftp-backup.yaml'));
    expect(r.stderr).toContain(join(dir, 'xdg', 'pve-ftp-backup', 'config.yaml'));
  });

  it('config schema prints valid JSON Schema', async () => {
    const r = await cli(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain('json-schema.org');
    expect(Object.keys(schema.properties)).toEqual([
      'clusters',
      'ftp',
      'backup',
      'retention',
      'notify',
      'metrics',
      'status',
      'lockLease',
    ]);
  });

  it('hook prints the node hook script', async () => {
    const r = await cli(['hook']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#!/bin/sh')).toBe(true);
  });

  it("hook --config --node NAME prints that node's hook.conf (with the FTP password, by design)", async () => {
    const r = await cli(['hook', '-c', 'good.yaml', '--config', '--node', 'pve1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node=pve1');
    expect(r.stdout).toContain('storage=ftp-staging');
    expect(r.stdout).toContain(`password=${FTP_PW}`);
    expect(r.stderr).not.toContain(FTP_PW);
  });

  it('hook --config without --node is a usage error', async () => {
    const r = await cli(['hook', '-c', 'good.yaml', '--config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs --node NAME');
  });

  it('--log-file to an unwritable place is exit 2 naming it', async () => {
    const r = await cli(['list', '-c', 'good.yaml', '--log-file', '/nonexistent-dir/x.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-file /nonexistent-dir/x.log');
  });
});
