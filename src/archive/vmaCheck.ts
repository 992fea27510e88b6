/**
 * Streaming VMA check (docs/archive-formats.md): header magic, version, md5 of
 * the header, blob buffer bounds, config blobs and devices; then every extent's
 * magic, md5, uuid and block count against its cluster masks, read to the end.
 * The writer stores only non-zero 4 KiB blocks (zero ones are marked in the
 * mask), so a stored all-zero block is damage, e.g. a copy padded with zeros.
 */
import { createHash } from 'node:crypto';
import type { ArchiveProblem, ContentChecker } from './types.js';

const HEADER_STRUCT = 12288;
const EXTENT_HEADER = 512;
const BLOCK = 4096;
/** Real headers are a few KiB past the struct; refuse to buffer absurd sizes. */
const MAX_HEADER = 16 * 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function popcount16(v: number): number {
  let n = 0;
  for (let x = v; x; x &= x - 1) n++;
  return n;
}

export class VmaCheck implements ContentChecker {
  readonly problems: ArchiveProblem[] = [];
  private offset = 0;
  /** Bytes being collected for the current header (archive header or extent header). */
  private buf: Buffer = Buffer.alloc(HEADER_STRUCT);
  private fill = 0;
  private phase: 'struct' | 'header' | 'extent' | 'data' | 'stopped' = 'struct';
  private skip = 0;
  private uuid = Buffer.alloc(16);
  private devices = new Set<number>();
  private extents = 0;
  private extentStart = 0;
  /** Position inside the current 4 KiB data block, and whether it was all zero so far. */
  private blockPos = 0;
  private blockZero = true;

  private problem(code: string, message: string, offset?: number): false {
    this.problems.push(offset === undefined ? { code, message } : { code, message, offset });
    this.phase = 'stopped';
    return false;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.phase === 'stopped') {
        this.offset += chunk.length - pos;
        return;
      }
      if (this.phase === 'data') {
        const n = Math.min(BLOCK - this.blockPos, chunk.length - pos);
        // equals() is a memcmp that stops at the first non-zero byte: nearly free on real data.
        if (this.blockZero && !chunk.subarray(pos, pos + n).equals(ZERO_BLOCK.subarray(0, n))) {
          this.blockZero = false;
        }
        this.blockPos += n;
        this.skip -= n;
        pos += n;
        this.offset += n;
        if (this.blockPos === BLOCK) {
          if (this.blockZero) {
            this.problem(
              'vma-zero-block',
              'VMA extent stores an all-zero 4 KiB block, which the writer never does',
              this.offset - BLOCK,
            );
            continue;
          }
          this.blockPos = 0;
          this.blockZero = true;
        }
        if (this.skip === 0) this.startExtent();
        continue;
      }
      const n = Math.min(this.buf.length - this.fill, chunk.length - pos);
      chunk.copy(this.buf, this.fill, pos, pos + n);
      this.fill += n;
      pos += n;
      this.offset += n;
      if (this.fill === this.buf.length) this.complete();
    }
  }

  private startExtent(): void {
    this.phase = 'extent';
    this.extentStart = this.offset;
    if (this.buf.length !== EXTENT_HEADER) this.buf = Buffer.alloc(EXTENT_HEADER);
    this.fill = 0;
  }

  /** Returns false when the archive is beyond checking. */
  private complete(): boolean {
    if (this.phase === 'struct') {
      const h = this.buf;
      if (h.toString('latin1', 0, 4) !== 'VMA\0')
        return this.problem('vma-magic', 'not a VMA: wrong magic number', 0);
      const size = h.readUInt32BE(56);
      if (size <= HEADER_STRUCT || size > MAX_HEADER) {
        return this.problem('vma-header-size', `VMA header size ${size} is out of range`, 56);
      }
      const full = Buffer.alloc(size);
      h.copy(full);
      this.buf = full;
      this.phase = 'header';
      return true;
    }
    if (this.phase === 'header') {
      if (!this.readHeader(this.buf)) return false;
      this.startExtent();
      return true;
    }
    return this.readExtentHeader(this.buf);
  }

  private readHeader(h: Buffer): boolean {
    const stored = Buffer.from(h.subarray(32, 48));
    h.fill(0, 32, 48);
    if (!createHash('md5').update(h).digest().equals(stored)) {
      return this.problem('vma-header-md5', 'VMA header md5 checksum does not match', 32);
    }
    const version = h.readUInt32BE(4);
    if (version !== 1) return this.problem('vma-version', `VMA version ${version} is not 1`, 4);
    h.copy(this.uuid, 0, 8, 24);
    const blobOffset = h.readUInt32BE(48);
    const blobEnd = blobOffset + h.readUInt32BE(52);
    if (blobOffset < HEADER_STRUCT || blobEnd > h.length) {
      return this.problem(
        'vma-blob-buffer',
        `VMA blob buffer ${blobOffset}..${blobEnd} lies outside the header`,
        48,
      );
    }
    const blob = (ptr: number): Buffer | undefined => {
      const at = blobOffset + ptr;
      if (ptr === 0 || at + 2 > blobEnd) return undefined;
      const len = h.readUInt16LE(at);
      return at + 2 + len <= blobEnd ? h.subarray(at + 2, at + 2 + len) : undefined;
    };
    const str = (ptr: number): string | undefined => {
      const b = blob(ptr);
      return b && b.length > 0 && b[b.length - 1] === 0
        ? b.toString('utf8', 0, b.length - 1)
        : undefined;
    };
    const configs: string[] = [];
    for (let i = 0; i < 256; i++) {
      const namePtr = h.readUInt32BE(2044 + 4 * i);
      const dataPtr = h.readUInt32BE(3068 + 4 * i);
      if (!namePtr || !dataPtr) continue;
      const name = str(namePtr);
      if (name === undefined || blob(dataPtr) === undefined) {
        return this.problem(
          'vma-config-pointer',
          `VMA config ${i} points outside the blob buffer`,
          2044 + 4 * i,
        );
      }
      configs.push(name);
    }
    if (!configs.some((c) => c === 'qemu-server.conf')) {
      return this.problem(
        'vma-no-guest-config',
        `VMA holds no qemu-server.conf (configs: ${configs.join(', ') || 'none'})`,
      );
    }
    for (let i = 1; i < 256; i++) {
      const at = 4096 + 32 * i;
      if (h.readBigUInt64BE(at + 8) > 0n && str(h.readUInt32BE(at)) !== undefined)
        this.devices.add(i);
    }
    if (this.devices.size === 0)
      return this.problem('vma-no-device', 'VMA header lists no device', 4096);
    return true;
  }

  private readExtentHeader(h: Buffer): boolean {
    const at = this.extentStart;
    if (h.toString('latin1', 0, 4) !== 'VMAE') {
      return this.problem(
        'vma-extent-magic',
        `VMA extent ${this.extents} has a wrong magic number`,
        at,
      );
    }
    const stored = Buffer.from(h.subarray(24, 40));
    h.fill(0, 24, 40);
    if (!createHash('md5').update(h).digest().equals(stored)) {
      return this.problem(
        'vma-extent-md5',
        `VMA extent ${this.extents} header md5 checksum does not match`,
        at,
      );
    }
    if (!h.subarray(8, 24).equals(this.uuid)) {
      return this.problem(
        'vma-extent-uuid',
        `VMA extent ${this.extents} carries another archive's uuid`,
        at + 8,
      );
    }
    const blocks = h.readUInt16BE(6);
    let counted = 0;
    for (let i = 0; i < 59; i++) {
      const o = 40 + 8 * i;
      const dev = h[o + 3]!;
      if (!dev) continue;
      if (!this.devices.has(dev)) {
        return this.problem(
          'vma-extent-device',
          `VMA extent ${this.extents} names unknown device ${dev}`,
          at + o,
        );
      }
      counted += popcount16(h.readUInt16BE(o));
    }
    if (counted !== blocks) {
      return this.problem(
        'vma-extent-blocks',
        `VMA extent ${this.extents} says ${blocks} blocks, its masks ${counted}`,
        at + 6,
      );
    }
    this.extents++;
    this.skip = blocks * BLOCK;
    this.phase = 'data';
    if (this.skip === 0) this.startExtent();
    return true;
  }

  end(): void {
    if (this.phase === 'stopped') return;
    if (this.phase === 'struct' || this.phase === 'header') {
      this.problem(
        'vma-truncated',
        `VMA ends inside its header (${this.fill} bytes read)`,
        this.offset,
      );
    } else if (this.phase === 'data') {
      this.problem(
        'vma-truncated',
        `VMA ends inside the data of extent ${this.extents - 1}, ${this.skip} bytes short`,
        this.offset,
      );
    } else if (this.fill > 0) {
      this.problem(
        'vma-truncated',
        `VMA ends inside an extent header (${this.fill} of 512 bytes)`,
        this.offset,
      );
    } else if (this.extents === 0) {
      this.problem('vma-no-extents', 'VMA holds no extents', this.offset);
    }
  }
}
