/**
 * The guest-config rule on tars made by the system tar: LXC needs pct.conf
 * first, OpenVZ needs vps.conf anywhere; a tar of something else is named.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'etc/vzdump'), { recursive: true });
  await mkdir(path.join(root, 'usr/share'), { recursive: true });
  for (let i = 0; i < 10; i++)
    await writeFile(path.join(root, 'usr/share', `f${i}`), `file ${i}\n`);
  await writeFile(path.join(root, 'etc/vzdump/pct.conf'), 'hostname: ct\n');
  await writeFile(path.join(root, 'etc/vzdump/vps.conf'), 'HOSTNAME="ct"\n');
});
afterAll(() => cleanup());

function tar(name: string, ...members: string[]): string {
  const file = path.join(dir, name);
  execFileSync('tar', ['-cf', file, '-C', path.join(dir, 'root'), '--sort=name', ...members]);
  return file;
}

describe('tar guest-config rule', () => {
  it('accepts pct.conf named first, as vzdump hands it to tar', async () => {
    const r = await checkFile(
      tar('vzdump-lxc-1-2024_01_01-00_00_00.tar', './etc/vzdump/pct.conf', './usr'),
    );
    expect(r.problems).toEqual([]);
  });

  it('refuses pct.conf buried in tree order', async () => {
    const r = await checkFile(
      tar('vzdump-lxc-2-2024_01_01-00_00_00.tar', './usr', './etc/vzdump/pct.conf'),
    );
    expect(r.problems.map((p) => p.code)).toEqual(['tar-no-guest-config']);
    expect(r.problems[0]?.message).toContain('./usr/');
  });

  it('accepts vps.conf anywhere, as OpenVZ tars `find .`', async () => {
    const r = await checkFile(
      tar('vzdump-openvz-3-2024_01_01-00_00_00.tar', './usr', './etc/vzdump/vps.conf'),
    );
    expect(r.problems).toEqual([]);
  });

  it('names a tar without any guest config', async () => {
    const r = await checkFile(tar('vzdump-lxc-4-2024_01_01-00_00_00.tar', './usr'));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.code)).toEqual(['tar-no-guest-config']);
  });

  it('reads archives compressed by the real gzip, lzop and zstd (not only the simulator)', async () => {
    const plain = tar('vzdump-lxc-5-2024_01_01-00_00_00.tar', './etc/vzdump/pct.conf', './usr');
    for (const [ext, cmd] of [
      ['gz', 'gzip -c'],
      ['lzo', 'lzop -c'],
      ['zst', 'zstd -q -c'],
    ] as const) {
      const file = `${plain}.${ext}`;
      execFileSync('sh', ['-c', `${cmd} "$1" > "$2"`, 'sh', plain, file]);
      const r = await checkFile(file);
      expect([ext, r.problems]).toEqual([ext, []]);
    }
  });
});
