import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkArchive } from '../../../src/archive/checkArchive.js';
import {
  archiveBasename,
  archiveByte,
  archiveExtension,
  parseArchiveName,
  writeArchive,
} from '../../../src/sim/archive.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('archive files', () => {
  it('names archives like vzdump, per type and compressor', () => {
    const d = new Date(2024, 4, 1, 2, 0, 3);
    expect(archiveBasename('lxc', 101, d)).toBe('vzdump-lxc-101-2024_05_01-02_00_03');
    expect(archiveExtension('lxc', 'zstd')).toBe('tar.zst');
    expect(archiveExtension('openvz', '1')).toBe('tar.lzo');
    expect(archiveExtension('openvz', 'gzip')).toBe('tar.gz');
    expect(archiveExtension('qemu', undefined)).toBe('vma');
    expect(archiveExtension('qemu', '0')).toBe('vma');
    expect(parseArchiveName('vzdump-openvz-1123-2011_12_20-21_53_10.tgz')).toMatchObject({
      format: 'tgz',
      vmid: 1123,
    });
    expect(parseArchiveName('vzdump-lxc-101-2024_05_01-02_00_03.log')).toBeUndefined();
  });

  it('streams exactly the size asked, through .dat, as a real tar the checker accepts', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sim-archive-'));
    const size = 40 * 1024 * 1024 + 12345; // spans many chunks and a ragged tail
    const file = await writeArchive(dir, 'vzdump-lxc-7-2024_01_01-00_00_00', 'tar', 7, size);
    expect((await stat(file)).size).toBe(size);
    expect(await readdir(dir)).toEqual(['vzdump-lxc-7-2024_01_01-00_00_00.tar']);
    const result = await checkArchive(createReadStream(file), { name: path.basename(file) });
    expect(result).toMatchObject({ ok: true, bytes: size, problems: [] });
  });

  it('writes deterministic filler at every offset when the size is too small for a real archive', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sim-archive-'));
    const size = 2000;
    const file = await writeArchive(dir, 'vzdump-lxc-7-2024_01_01-00_00_00', 'tar', 7, size);
    expect((await stat(file)).size).toBe(size);
    const fh = await open(file);
    try {
      for (const off of [0, 255, 256, 1023, size - 1]) {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, off);
        expect([off, b[0]]).toEqual([off, archiveByte(7, off)]);
      }
    } finally {
      await fh.close();
    }
  });

  it('stops on abort without producing the final archive', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sim-archive-'));
    const ac = new AbortController();
    ac.abort();
    await expect(writeArchive(dir, 'b', 'tar', 1, 10 * 1024 * 1024, ac.signal)).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f !== 'b.dat')).toEqual([]);
  });
});
