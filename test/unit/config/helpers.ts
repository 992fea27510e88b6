// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A minimal valid config; tests change one thing at a time. */
export const VALID = `clusters:
  - name: home
    url: https://pve1.example.lan:8006
    auth:
      token: backup@pve!nightly
      secret: \${PVE_TOKEN_SECRET}
ftp:
  host: nas.example.lan
  user: backup
  password: \${FTP_PASSWORD}
  dir: /disk1/backup/dump
backup:
  storage: ftp-staging
`;

export const ENV = { PVE_TOKEN_SECRET: 'tok-secret-1234', FTP_PASSWORD: 'ftp-pass-5678' };

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pfb-config-'));
  dirs.push(d);
  return d;
}

/** Writes `text` as a config file in a fresh temp dir; returns its path. */
export async function writeConfig(text: string, name = 'config.yaml'): Promise<string> {
  const d = await tempDir();
  const p = join(d, name);
  await writeFile(p, text);
  return p;
}
