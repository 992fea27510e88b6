/**
 * Failures around the archive rather than in it: a source that errors, a
 * decoder binary that is missing, an abort while the simulator writes.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchive } from '../../../src/archive/checkArchive.js';
import { writeArchive } from '../../../src/sim/archive.js';
import { tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('checkArchive around the archive', () => {
  it('turns a source that fails midway into a read-failed problem with the offset', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(1024);
      throw new Error('connection reset');
    }
    const r = await checkArchive(failing(), { name: 'vzdump-lxc-1-2024_01_01-00_00_00.tar' });
    expect(r.ok).toBe(false);
    expect(r.bytes).toBe(1024);
    expect(r.problems[0]).toEqual({
      code: 'read-failed',
      message: 'reading the archive failed after 1024 bytes: connection reset',
      offset: 1024,
    });
  });

  it('names a decoder binary that cannot run instead of throwing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await checkArchive([Buffer.from('x')], {
        name: 'vzdump-lxc-1-2024_01_01-00_00_00.tar.zst',
      });
      expect(r.ok).toBe(false);
      expect(r.problems[0]?.code).toBe('decompress-failed');
      expect(r.problems[0]?.message).toMatch(/zstd could not run/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('simulator archive writing', () => {
  for (const ext of ['tar', 'tar.gz', 'tar.zst', 'tar.lzo']) {
    it(`an abort while writing a ${ext} leaves no final archive`, async () => {
      const ac = new AbortController();
      const base = `vzdump-lxc-5-2024_01_01-00_00_0${ext.length % 10}`;
      const writing = writeArchive(dir, base, ext, 5, 512 * 1024 * 1024, ac.signal);
      setTimeout(() => ac.abort(), 50);
      await expect(writing).rejects.toThrow();
      expect((await readdir(dir)).filter((f) => f === `${base}.${ext}`)).toEqual([]);
    });
  }
});
