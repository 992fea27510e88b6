/**
 * Generated archives are what the real tools accept: tar lists them with the
 * guest config first, gzip/zstd/lzop test them, and the file has the exact size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArchive } from '../../../src/sim/archive.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-archives-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const decompress: Record<string, string[]> = {
  '': ['cat'],
  '.gz': ['gzip', '-dc'],
  '.lzo': ['lzop', '-dc'],
  '.zst': ['zstd', '-dcq'],
};

describe('generated container archives pass the real tools', () => {
  for (const type of ['lxc', 'openvz'] as const) {
    for (const suffix of ['', '.gz', '.lzo', '.zst']) {
      it(`${type} tar${suffix} at 70001 and 3 MiB + 17 bytes`, async () => {
        for (const size of [70_001, 3 * 1024 * 1024 + 17]) {
          const file = await writeArchive(
            dir,
            `vzdump-${type}-101-2024_01_01-00_00_00`,
            `tar${suffix}`,
            101,
            size,
          );
          expect((await stat(file)).size).toBe(size);
          const [cmd, ...args] = decompress[suffix]!;
          const list = execFileSync(
            'sh',
            ['-c', `${cmd} ${args.join(' ')} "$1" | tar -tvf -`, 'sh', file],
            {
              encoding: 'utf8',
            },
          );
          const names = list
            .trim()
            .split('\n')
            .map((l) => l.split(/\s+/).pop());
          // LXC: tar is handed pct.conf first; OpenVZ: vps.conf comes in `find .` order.
          if (type === 'lxc') expect(names[0]).toBe('./etc/vzdump/pct.conf');
          else expect(names.slice(0, 6)).toContain('./etc/vzdump/vps.conf');
          expect(names).toContain('./var/lib/guest-data.img');
          if (suffix === '.gz') execFileSync('gzip', ['-t', file]);
          if (suffix === '.zst') execFileSync('zstd', ['-tq', file]);
          if (suffix === '.lzo') execFileSync('lzop', ['-tq', file]);
        }
      });
    }
  }
});
