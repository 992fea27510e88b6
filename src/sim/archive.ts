/**
 * Archive files as vzdump names and writes them (docs/pve-facts.md#archives): the name from type, vmid and
 * the node-local start time; the extension from guest type and compressor;
 * content written as `<basename>.dat` and renamed at the end. Content is what
 * vzdump writes (a tar or a VMA, compressed as asked; docs/archive-formats.md),
 * deterministic per vmid, exactly the asked size, and streamed in chunks, so
 * 1 GiB never sits in memory. Sizes too small to hold a real archive get
 * deterministic filler bytes instead (`archiveByte`).
 */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { paddedPayload, writePadded } from './archiveCompress.js';
import { lzopPlan, lzopStream } from './archiveLzop.js';
import { minTarPayload, tarStream } from './archiveTar.js';
import { minVmaPayload, vmaStream } from './archiveVma.js';
import type { GuestType } from './scenario.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** `YYYY_MM_DD-HH_MM_SS` in the node's local time. */
export function vzdumpTimestamp(d: Date): string {
  return `${d.getFullYear()}_${pad(d.getMonth() + 1)}_${pad(d.getDate())}-${pad(d.getHours())}_${pad(
    d.getMinutes(),
  )}_${pad(d.getSeconds())}`;
}

/** `vzdump-<type>-<vmid>-<timestamp>` (no extension). */
export function archiveBasename(type: GuestType, vmid: number, d: Date): string {
  return `vzdump-${type}-${vmid}-${vzdumpTimestamp(d)}`;
}

/** The archive extension for a guest type and `compress` value (`0|1|gzip|lzo|zstd`). */
export function archiveExtension(type: GuestType, compress: string | undefined): string {
  const base = type === 'qemu' ? 'vma' : 'tar';
  switch (compress) {
    case 'gzip':
      return `${base}.gz`;
    case '1':
    case 'lzo':
      return `${base}.lzo`;
    case 'zstd':
      return `${base}.zst`;
    default:
      return base;
  }
}

const CHUNK = 1024 * 1024;

/** The byte at `offset` of a guest's archive: anyone can recompute and compare. */
export function archiveByte(vmid: number, offset: number): number {
  return (offset * 31 + vmid * 7 + (offset >>> 13)) & 0xff;
}

/** Within one 8 KiB block the pattern repeats every 256 bytes: fill by block, not by byte. */
const BLOCK = 8192;

function fillChunk(buf: Buffer, vmid: number, offset: number, len: number): void {
  const period = Buffer.allocUnsafe(256);
  for (let pos = 0; pos < len; ) {
    const abs = offset + pos;
    const blockEnd = Math.min(len, pos + (BLOCK - (abs % BLOCK)));
    for (let i = 0; i < 256; i++) period[i] = archiveByte(vmid, abs + i);
    buf.fill(period, pos, blockEnd);
    pos = blockEnd;
  }
}

/** Fixed timestamp inside generated archives, so content depends on the seed only. */
const CONTENT_TIME = 1_700_000_000;

export type ArchiveCompressor = 'none' | 'gzip' | 'lzo' | 'zstd';

/** The compressor an archive extension implies (`tar.zst` → zstd, `tgz` → gzip). */
export function compressorOf(ext: string): ArchiveCompressor {
  if (ext.endsWith('.gz') || ext === 'tgz') return 'gzip';
  if (ext.endsWith('.lzo')) return 'lzo';
  if (ext.endsWith('.zst')) return 'zstd';
  return 'none';
}

/**
 * Writes a real archive of exactly `size` bytes to `file`: a tar (container) or
 * VMA (qemu) compressed as asked. Returns false, writing nothing, when `size`
 * is too small for one.
 */
export async function writeRealArchive(
  file: string,
  type: GuestType,
  compressor: ArchiveCompressor,
  seed: number,
  size: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const min = type === 'qemu' ? minVmaPayload(seed) : minTarPayload(type, seed);
  const payload = (n: number): Iterable<Buffer> =>
    type === 'qemu' ? vmaStream(seed, seed, n, CONTENT_TIME) : tarStream(type, seed, seed, n);
  switch (compressor) {
    case 'none': {
      if (size < min) return false;
      await pipeline(Readable.from(payload(size)), createWriteStream(file), { signal });
      return true;
    }
    case 'lzo': {
      const plan = lzopPlan(size, min);
      if (!plan) return false;
      await pipeline(
        Readable.from(lzopStream(payload(plan.payload), plan.nameLen, CONTENT_TIME)),
        createWriteStream(file),
        { signal },
      );
      return true;
    }
    default: {
      const n = paddedPayload(compressor, size);
      if (n < min) return false;
      await writePadded(compressor, payload(n), file, size, signal);
      return true;
    }
  }
}

/**
 * Writes the archive `<basename>.<ext>` of `size` bytes to `<dir>` through
 * `<basename>.dat`, renamed at the end. Honours `signal` between chunks.
 */
export async function writeArchive(
  dir: string,
  basename: string,
  ext: string,
  vmid: number,
  size: number,
  signal?: AbortSignal,
): Promise<string> {
  const tmp = path.join(dir, `${basename}.dat`);
  const final = path.join(dir, `${basename}.${ext}`);
  const type = parseArchiveName(`${basename}.${ext}`)?.type;
  if (type && (await writeRealArchive(tmp, type, compressorOf(ext), vmid, size, signal))) {
    await rename(tmp, final);
    return final;
  }
  const out = createWriteStream(tmp);
  try {
    for (let off = 0; off < size; off += CHUNK) {
      signal?.throwIfAborted();
      const len = Math.min(CHUNK, size - off);
      const buf = Buffer.allocUnsafe(len);
      fillChunk(buf, vmid, off, len);
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
  await rename(tmp, final);
  return final;
}

/** Splits an archive file name into basename and format (`tar.zst`, `vma`, `tgz`). */
export function parseArchiveName(
  file: string,
):
  | { basename: string; format: string; type: GuestType; vmid: number; timestamp: string }
  | undefined {
  const m =
    /^(vzdump-(openvz|lxc|qemu)-(\d+)-(\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d))\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$/.exec(
      file,
    );
  if (!m) return undefined;
  return {
    basename: m[1]!,
    type: m[2] as GuestType,
    vmid: Number(m[3]),
    timestamp: m[4]!,
    format: m[5]!,
  };
}
