/**
 * Round trip: archives the simulator writes pass the checker for every guest
 * type and compressor; damaged copies give a problem naming the damage.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArchiveCompressor, writeRealArchive } from '../../../src/sim/archive.js';
import type { GuestType } from '../../../src/sim/scenario.js';
import { archiveName, checkFile, tempDir } from './support.js';

const TYPES: GuestType[] = ['lxc', 'openvz', 'qemu'];
const COMPRESSORS: ArchiveCompressor[] = ['none', 'gzip', 'lzo', 'zstd'];
// Small, and large enough for several lzop blocks and VMA extents.
const SIZES = [100_003, 9 * 1024 * 1024 + 5];

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

async function generate(
  type: GuestType,
  c: ArchiveCompressor,
  size: number,
  seed = 101,
  sub = '',
): Promise<string> {
  const file = path.join(dir, sub, `${size}-${archiveName(type, c, seed)}`);
  expect(await writeRealArchive(file, type, c, seed, size)).toBe(true);
  return file;
}

const sha = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('checkArchive on generated archives', () => {
  for (const type of TYPES) {
    for (const c of COMPRESSORS) {
      it(`${type} × ${c}: exact size, passes, sha256 and bytes of the raw file`, async () => {
        for (const size of SIZES) {
          const file = await generate(type, c, size);
          expect((await stat(file)).size).toBe(size);
          const expected = await sha(file);
          const result = await checkFile(file, expected);
          expect(result.problems).toEqual([]);
          expect(result).toMatchObject({ ok: true, sha256: expected, bytes: size });
          expect(result.contentBytes).toBeGreaterThan(size * 0.99);
        }
      });
    }
  }

  it('is deterministic per seed and differs between seeds', async () => {
    for (const c of COMPRESSORS) {
      const a = await generate('lxc', c, 200_000, 7);
      const b = path.join(dir, `again-${path.basename(a)}`);
      await writeRealArchive(b, 'lxc', c, 7, 200_000);
      const other = path.join(dir, `other-${path.basename(a)}`);
      await writeRealArchive(other, 'lxc', c, 8, 200_000);
      expect(await sha(b)).toBe(await sha(a));
      expect(await sha(other)).not.toBe(await sha(a));
    }
  });

  it('says when a size is too small for a real archive instead of writing a broken one', async () => {
    for (const type of TYPES) {
      for (const c of COMPRESSORS) {
        expect(
          await writeRealArchive(path.join(dir, `tiny-${archiveName(type, c)}`), type, c, 1, 2048),
        ).toBe(false);
      }
    }
  });
});

describe('checkArchive on damaged archives', () => {
  const size = 2 * 1024 * 1024 + 333;

  for (const type of TYPES) {
    for (const c of COMPRESSORS) {
      it(`${type} × ${c}: flipped byte, truncation, zero padding to the right size, wrong sha256`, async () => {
        const file = await generate(type, c, size, 5);
        const good = await readFile(file);
        const goodSha = await sha(file);

        // A flipped byte in the header region: structure or checksum must catch it even without sha256.
        const flippedHead = Buffer.from(good);
        const headAt = c === 'none' ? 100 : 60;
        flippedHead[headAt] = flippedHead[headAt]! ^ 0x40;
        await writeFile(file, flippedHead);
        const head = await checkFile(file);
        expect(head.ok).toBe(false);
        expect(head.problems.length).toBeGreaterThan(0);

        // A flipped byte in the middle: caught by the container checksum, else by the sha256.
        const flipped = Buffer.from(good);
        const midAt = Math.floor(size / 2);
        flipped[midAt] = flipped[midAt]! ^ 0xff;
        await writeFile(file, flipped);
        const mid = await checkFile(file, goodSha);
        expect(mid.ok).toBe(false);
        expect(mid.bytes).toBe(size);
        expect(mid.problems.map((p) => p.code)).toContain('sha256-mismatch');
        if (c !== 'none') expect(mid.problems.map((p) => p.code)).toContain('decompress-failed');

        // Truncated to 60 %: the content check says where it ended.
        await writeFile(file, good);
        await truncate(file, Math.floor(size * 0.6));
        const cut = await checkFile(file);
        expect(cut.ok).toBe(false);
        expect(cut.bytes).toBe(Math.floor(size * 0.6));
        expect(
          cut.problems.some((p) => /truncated|decompress-failed|end-marker/.test(p.code)),
        ).toBe(true);

        // Cut at 60 % and zero-padded back to the right size.
        const padded = Buffer.alloc(size);
        good.copy(padded, 0, 0, Math.floor(size * 0.6));
        await writeFile(file, padded);
        const pad = await checkFile(file, goodSha);
        expect(pad.ok).toBe(false);
        expect(pad.bytes).toBe(size);
        expect(pad.problems.map((p) => p.code)).toContain('sha256-mismatch');
        if (!(type !== 'qemu' && c === 'none')) {
          // Only a plain tar can hide zeros (they read as file data); everything else notices.
          expect(pad.problems.length).toBeGreaterThan(1);
        }

        // The intact archive against a wrong expected sha256.
        await writeFile(file, good);
        const wrong = await checkFile(file, '0'.repeat(64));
        expect(wrong.problems).toEqual([
          {
            code: 'sha256-mismatch',
            message: `sha256 ${goodSha} differs from the expected ${'0'.repeat(64)}`,
          },
        ]);
      });
    }
  }

  it('names an unknown archive suffix and still hashes the bytes', async () => {
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'hello');
    const r = await checkFile(file);
    expect(r).toMatchObject({ ok: false, bytes: 5 });
    expect(r.problems[0]?.code).toBe('unknown-format');
  });
});
