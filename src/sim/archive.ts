/**
 * Archive files as vzdump names and writes them (docs/pve-facts.md#archives): the name from
 * type, vmid and the node-local start time; the extension from guest type and
 * compressor; content written as `<basename>.dat` and renamed at the end.
 * Content is deterministic and streamed in chunks, so 1 GiB never sits in memory.
 */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
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

/**
 * Writes `size` deterministic bytes to `<dir>/<basename>.dat`, then renames it
 * to `<dir>/<basename>.<ext>`. Honours `signal` between chunks.
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
