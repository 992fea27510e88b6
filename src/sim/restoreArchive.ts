/**
 * What a simulated restore reads out of a backup archive: the guest config
 * vzdump stored in it (docs/archive-formats.md) — `./etc/vzdump/pct.conf`
 * (LXC) or `./etc/vzdump/vps.conf` (OpenVZ) from the tar, `qemu-server.conf`
 * from the VMA header's config blobs — and whether the whole archive reads
 * back (src/archive/checkArchive.ts), as vzrestore/qmrestore would find out
 * by extracting it.
 */
import { createReadStream } from 'node:fs';
import { checkArchive } from '../archive/checkArchive.js';
import { compressionOf, createDecoder } from '../archive/decoders.js';

const BLOCK = 512;
/** The config sits in the first entries; a reader that has not found it by then gives up. */
const MAX_SCAN = 4 * 1024 * 1024;
const VMA_HEADER_STRUCT = 12288;

/** Config file names vzdump stores, by archive kind. */
const TAR_CONFIGS = ['./etc/vzdump/pct.conf', './etc/vzdump/vps.conf'];

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** The config text in the first tar entries of `head` (decompressed bytes), if complete there. */
export function tarConfig(head: Buffer): string | undefined {
  for (let pos = 0; pos + BLOCK <= head.length; ) {
    const h = head.subarray(pos, pos + BLOCK);
    if (h.every((b) => b === 0)) return undefined;
    const name = cString(h, 0, 100);
    const size = Number.parseInt(cString(h, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) return undefined;
    const dataStart = pos + BLOCK;
    if (TAR_CONFIGS.includes(name)) {
      if (dataStart + size > head.length) return undefined;
      return head.toString('utf8', dataStart, dataStart + size);
    }
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}

/** `qemu-server.conf` from a VMA header in `head` (decompressed bytes), if complete there. */
export function vmaConfig(head: Buffer): string | undefined {
  if (head.length < VMA_HEADER_STRUCT || head.toString('latin1', 0, 4) !== 'VMA\0')
    return undefined;
  const blobOffset = head.readUInt32BE(48);
  const blobSize = head.readUInt32BE(52);
  if (head.length < blobOffset + blobSize) return undefined;
  const blob = (at: number): Buffer | undefined => {
    if (at === 0 || at + 2 > blobSize) return undefined;
    const len = head.readUInt16LE(blobOffset + at);
    return head.subarray(blobOffset + at + 2, blobOffset + at + 2 + len);
  };
  for (let i = 0; i < 256; i++) {
    const name = blob(head.readUInt32BE(2044 + i * 4));
    if (name && cString(name, 0, name.length) === 'qemu-server.conf') {
      return blob(head.readUInt32BE(3068 + i * 4))?.toString('utf8');
    }
  }
  return undefined;
}

/**
 * Reads the stored guest config from the archive at `file` (decompressing only
 * its beginning). Undefined when the archive holds none where vzdump puts it.
 */
export async function readStoredConfig(file: string): Promise<string | undefined> {
  const isVma = /\.vma(\.\w+)?$/.test(file);
  const parts: Buffer[] = [];
  let have = 0;
  const decoder = createDecoder(compressionOf(file), (chunk) => {
    if (have < MAX_SCAN) {
      parts.push(chunk);
      have += chunk.length;
    }
  });
  const found = (): string | undefined => {
    const head = Buffer.concat(parts);
    return isVma ? vmaConfig(head) : tarConfig(head);
  };
  let config: string | undefined;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    await decoder.write(chunk as Buffer);
    config = found();
    if (config !== undefined || have >= MAX_SCAN) break;
  }
  // Stopping early leaves the decoder mid-stream: its complaint about that is expected.
  await decoder.end();
  return config ?? found();
}

/** Reads the archive back whole; the problems a real extraction would stumble over. */
export async function readBackArchive(file: string): Promise<string[]> {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const result = await checkArchive(createReadStream(file, { highWaterMark: 1024 * 1024 }), {
    name,
  });
  return result.problems.map((p) => p.message);
}

/** The guest name a stored config gives: `hostname:` (LXC), `HOSTNAME="…"` (OpenVZ), `name:` (QEMU). */
export function nameFromConfig(config: string): string | undefined {
  for (const line of config.split('\n')) {
    const m = /^(?:hostname|name):\s*(\S+)\s*$/.exec(line) ?? /^HOSTNAME="([^"]*)"\s*$/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}
