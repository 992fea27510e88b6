/**
 * `verify --deep` reads an archive through the session's `download`, which
 * resolves once the last byte was handed to the destination, not once the
 * destination processed it. A checker that is slower than the network still
 * has chunks queued then: the verdict must wait for them (a verdict taken too
 * early reports a good archive as truncated, or crashes on a finished hash).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { NasSession } from '../../../src/ftp/session.js';
import { writeRealArchive } from '../../../src/sim/archive.js';
import { verifyTree } from '../../../src/verify/verifyTree.js';
import { oneArchiveManifest } from '../../support/oneArchiveManifest.js';
import { archiveName, tempDir } from '../archive/support.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A NAS of one generation whose download writes every chunk at once and returns. */
function hastyNas(archive: Buffer, name: string, sha256: string): NasSession {
  const files = new Map<string, string>([
    ['manifest.json', oneArchiveManifest({ name, size: archive.length, sha256 })],
    [`${name}.sha256`, `${sha256}  ${name}\n`],
  ]);
  const nas = {
    list: async (dir: string) =>
      dir === '/dump/pve1'
        ? [{ name: 'daily.0', type: 'dir', size: 0 }]
        : [
            { name, type: 'file', size: archive.length },
            ...[...files].map(([n, t]) => ({ name: n, type: 'file', size: t.length })),
          ],
    readText: async (p: string) => files.get(path.posix.basename(p)),
    download: async (_p: string, dest: Writable) => {
      for (let at = 0; at < archive.length; at += 64 * 1024) {
        dest.write(archive.subarray(at, at + 64 * 1024));
      }
    },
  };
  return nas as unknown as NasSession;
}

describe('verify --deep read-back', () => {
  it('waits for every chunk handed over before it judges the archive', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const name = archiveName('lxc', 'zstd');
    const file = path.join(t.dir, name);
    expect(await writeRealArchive(file, 'lxc', 'zstd', 101, 8 * 1024 * 1024)).toBe(true);
    const archive = await readFile(file);
    const sha256 = createHash('sha256').update(archive).digest('hex');
    const v = await verifyTree(hastyNas(archive, name, sha256), '/dump/pve1', 'pve1', {
      vmids: [],
      deep: true,
    });
    expect(v.files).toEqual([
      expect.objectContaining({ name, ok: true, problems: [], bytes: archive.length }),
    ]);
  });
});
