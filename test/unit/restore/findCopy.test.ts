/**
 * Which copy a restore brings back (src/restore/findCopy.ts), over an
 * in-memory NAS: the newest saved copy by run start across tiers, or the one
 * `--from` names; failed or unreadable entries never count; the archive must
 * be on the NAS at the manifest's size.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { findSavedCopy, NoCopyError } from '../../../src/restore/findCopy.js';
import { MemoryFs } from '../../support/memoryFs.js';

const NODE_DIR = '/dump/pve1';
const archive = (vmid: number, stamp: string) => `vzdump-lxc-${vmid}-${stamp}.tar.zst`;

/** A generation with a manifest holding `guests` and their files on the NAS. */
async function generation(
  fs: MemoryFs,
  gen: string,
  startedAt: string,
  guests: { vmid: number; status: 'saved' | 'failed'; file?: string; onNas?: string }[],
): Promise<void> {
  const dir = `${NODE_DIR}/${gen}`;
  await fs.mkdirp(dir);
  const entries = [];
  for (const g of guests) {
    const files = [];
    if (g.file) {
      const content = g.onNas ?? `archive ${g.vmid} ${gen}`;
      await fs.writeText(`${dir}/${g.file}`, content);
      files.push({
        name: g.file,
        size: Buffer.byteLength(`archive ${g.vmid} ${gen}`),
        sha256: 'a'.repeat(64),
      });
    }
    entries.push({ vmid: g.vmid, type: 'lxc', name: `ct${g.vmid}`, status: g.status, files });
  }
  const manifest = {
    version: 1,
    runId: `run-${gen}`,
    node: 'pve1',
    cluster: 'c',
    pveVersion: '9.1.7',
    startedAt,
    finishedAt: startedAt,
    guests: entries,
  };
  await fs.writeText(`${dir}/manifest.json`, JSON.stringify(manifest));
}

describe('findSavedCopy', () => {
  it('takes the newest saved copy by run start, across tiers, skipping failed entries', async () => {
    const fs = new MemoryFs();
    await generation(fs, 'daily.0', '2026-12-04T02:00:00Z', [{ vmid: 101, status: 'failed' }]);
    await generation(fs, 'daily.1', '2026-12-03T02:00:00Z', [
      { vmid: 101, status: 'saved', file: archive(101, '2026_12_03-02_00_05') },
    ]);
    // A weekly kept past its count can be newer than its name says; here it is older.
    await generation(fs, 'weekly.0', '2026-11-20T02:00:00Z', [
      { vmid: 101, status: 'saved', file: archive(101, '2026_11_20-02_00_05') },
    ]);
    const copy = await findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101 });
    expect(copy).toMatchObject({
      generation: 'daily.1',
      file: archive(101, '2026_12_03-02_00_05'),
      type: 'lxc',
      name: 'ct101',
      sha256: 'a'.repeat(64),
    });
  });

  it('takes the generation --from names, and refuses one that is not a generation name', async () => {
    const fs = new MemoryFs();
    await generation(fs, 'daily.0', '2026-12-04T02:00:00Z', [
      { vmid: 101, status: 'saved', file: archive(101, '2026_12_04-02_00_05') },
    ]);
    await generation(fs, 'monthly.2', '2026-09-01T02:00:00Z', [
      { vmid: 101, status: 'saved', file: archive(101, '2026_09_01-02_00_05') },
    ]);
    const copy = await findSavedCopy(fs, {
      nodeDir: NODE_DIR,
      node: 'pve1',
      vmid: 101,
      from: 'monthly.2',
    });
    expect(copy.generation).toBe('monthly.2');
    await expect(
      findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101, from: '../x' }),
    ).rejects.toThrow(ConfigError);
    await expect(
      findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101, from: 'daily.7' }),
    ).rejects.toThrow('node pve1 has no generation daily.7 on the NAS');
  });

  it('names a guest without any saved copy', async () => {
    const fs = new MemoryFs();
    await generation(fs, 'daily.0', '2026-12-04T02:00:00Z', [{ vmid: 101, status: 'failed' }]);
    await fs.mkdirp(`${NODE_DIR}/daily.1`);
    await fs.writeText(`${NODE_DIR}/daily.1/manifest.json`, 'not json');
    const error = await findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101 }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(NoCopyError);
    expect((error as Error).message).toBe('node pve1 has no saved copy of guest 101 on the NAS');
  });

  it('refuses a copy whose archive is missing or of another size than the manifest says', async () => {
    const fs = new MemoryFs();
    const file = archive(101, '2026_12_04-02_00_05');
    await generation(fs, 'daily.0', '2026-12-04T02:00:00Z', [
      { vmid: 101, status: 'saved', file, onNas: 'short' },
    ]);
    await expect(findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101 })).rejects.toThrow(
      `daily.0/${file} of node pve1 is 5 bytes on the NAS, the manifest says 19`,
    );
    await fs.removeFile(`${NODE_DIR}/daily.0/${file}`);
    await expect(findSavedCopy(fs, { nodeDir: NODE_DIR, node: 'pve1', vmid: 101 })).rejects.toThrow(
      `daily.0/${file} of node pve1 is in the manifest but not on the NAS`,
    );
  });
});
