import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ArchiveCheckResult, checkArchive } from '../../../src/archive/checkArchive.js';
import type { ArchiveCompressor } from '../../../src/sim/archive.js';
import type { GuestType } from '../../../src/sim/scenario.js';

export const SUFFIX: Record<ArchiveCompressor, string> = {
  none: '',
  gzip: '.gz',
  lzo: '.lzo',
  zstd: '.zst',
};

export function archiveName(type: GuestType, compressor: ArchiveCompressor, vmid = 101): string {
  return `vzdump-${type}-${vmid}-2024_01_01-00_00_00.${type === 'qemu' ? 'vma' : 'tar'}${SUFFIX[compressor]}`;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'archive-check-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function checkFile(file: string, expectedSha256?: string): Promise<ArchiveCheckResult> {
  return checkArchive(createReadStream(file), { name: path.basename(file), expectedSha256 });
}
