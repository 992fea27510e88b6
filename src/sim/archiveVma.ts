/**
 * The uncompressed VMA stream vzdump writes for a QEMU guest, per the published
 * VMA format (docs/archive-formats.md): a header with config blobs and one
 * device, then extents (512-byte header + up to 59 clusters of 4 KiB blocks).
 * Big-endian numbers; blob sizes are 2 bytes little-endian as the reference
 * reader parses them. The payload length is free: full extents take the bulk,
 * one partial extent the next part, and unused bytes at the end of the blob
 * buffer the last < 4608 (the reference reader parses them as empty blobs).
 */
import { createHash } from 'node:crypto';
import { Filler } from './archiveFiller.js';

export const VMA_HEADER_STRUCT = 12288;
export const VMA_EXTENT_HEADER = 512;
export const VMA_BLOCK = 4096;
export const VMA_BLOCKS_PER_CLUSTER = 16;
export const VMA_CLUSTERS_PER_EXTENT = 59;
const MAX_BLOCKS = VMA_CLUSTERS_PER_EXTENT * VMA_BLOCKS_PER_CLUSTER;
const FULL_EXTENT = VMA_EXTENT_HEADER + MAX_BLOCKS * VMA_BLOCK;

export function qemuConfig(vmid: number): string {
  return `boot: order=scsi0\ncores: 2\nmemory: 2048\nname: vm${vmid}\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\nostype: l26\nscsi0: local-lvm:vm-${vmid}-disk-0,size=32G\nscsihw: virtio-scsi-single\n`;
}

/** Blob buffer content (first byte unused: offset 0 means "no blob"), and blob offsets. */
function blobs(vmid: number): { buf: Buffer; confName: number; confData: number; dev: number } {
  const parts: Buffer[] = [Buffer.alloc(1)];
  let pos = 1;
  const add = (data: Buffer): number => {
    const at = pos;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(data.length);
    parts.push(len, data);
    pos += 2 + data.length;
    return at;
  };
  const confName = add(Buffer.from('qemu-server.conf\0'));
  const confData = add(Buffer.from(qemuConfig(vmid)));
  const dev = add(Buffer.from('drive-scsi0\0'));
  return { buf: Buffer.concat(parts), confName, confData, dev };
}

/** Smallest payload: header plus one extent of one block. */
export function minVmaPayload(vmid: number): number {
  return VMA_HEADER_STRUCT + blobs(vmid).buf.length + VMA_EXTENT_HEADER + VMA_BLOCK;
}

/** Extent sizes (in 4 KiB blocks) and blob padding that add up to `payload`. */
function plan(vmid: number, payload: number): { extents: number[]; blobPad: number } {
  let rest = payload - VMA_HEADER_STRUCT - blobs(vmid).buf.length;
  const extents: number[] = [];
  while (rest >= FULL_EXTENT) {
    extents.push(MAX_BLOCKS);
    rest -= FULL_EXTENT;
  }
  if (rest >= VMA_EXTENT_HEADER + VMA_BLOCK) {
    const n = Math.floor((rest - VMA_EXTENT_HEADER) / VMA_BLOCK);
    extents.push(n);
    rest -= VMA_EXTENT_HEADER + n * VMA_BLOCK;
  }
  return { extents, blobPad: rest };
}

function uuidFor(seed: number): Buffer {
  return createHash('sha256').update(`pve-sim-vma:${seed}`).digest().subarray(0, 16);
}

function header(
  vmid: number,
  seed: number,
  clusters: number,
  blobPad: number,
  ctime: number,
): Buffer {
  const b = blobs(vmid);
  const blobSize = b.buf.length + blobPad;
  const h = Buffer.alloc(VMA_HEADER_STRUCT + blobSize);
  h.write('VMA\0', 0, 'latin1');
  h.writeUInt32BE(1, 4);
  uuidFor(seed).copy(h, 8);
  h.writeBigUInt64BE(BigInt(ctime), 24);
  h.writeUInt32BE(VMA_HEADER_STRUCT, 48);
  h.writeUInt32BE(blobSize, 52);
  h.writeUInt32BE(h.length, 56);
  h.writeUInt32BE(b.confName, 2044);
  h.writeUInt32BE(b.confData, 3068);
  // dev_info[1]: dev_id 0 is reserved, the first disk is 1.
  h.writeUInt32BE(b.dev, 4096 + 32);
  h.writeBigUInt64BE(BigInt(clusters) * BigInt(VMA_BLOCK * VMA_BLOCKS_PER_CLUSTER), 4096 + 32 + 8);
  b.buf.copy(h, VMA_HEADER_STRUCT);
  createHash('md5').update(h).digest().copy(h, 32);
  return h;
}

function extentHeader(seed: number, blocks: number, firstCluster: number): Buffer {
  const h = Buffer.alloc(VMA_EXTENT_HEADER);
  h.write('VMAE', 0, 'latin1');
  h.writeUInt16BE(blocks, 6);
  uuidFor(seed).copy(h, 8);
  let left = blocks;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(VMA_BLOCKS_PER_CLUSTER, left);
    const at = 40 + i * 8;
    h.writeUInt16BE((1 << n) - 1, at);
    h[at + 3] = 1;
    h.writeUInt32BE(firstCluster + i, at + 4);
    left -= n;
  }
  createHash('md5').update(h).digest().copy(h, 24);
  return h;
}

/** Yields exactly `payload` bytes of a valid VMA stream (payload ≥ minVmaPayload). */
export function* vmaStream(
  vmid: number,
  seed: number,
  payload: number,
  ctime: number,
): Generator<Buffer> {
  const min = minVmaPayload(vmid);
  if (payload < min) throw new Error(`vma payload ${payload} below minimum ${min}`);
  const { extents, blobPad } = plan(vmid, payload);
  const clusters = extents.reduce((n, blocks) => n + Math.ceil(blocks / VMA_BLOCKS_PER_CLUSTER), 0);
  yield header(vmid, seed, clusters, blobPad, ctime);
  const filler = new Filler(seed, 'vma');
  let cluster = 0;
  for (const blocks of extents) {
    yield extentHeader(seed, blocks, cluster);
    cluster += Math.ceil(blocks / VMA_BLOCKS_PER_CLUSTER);
    for (let left = blocks * VMA_BLOCK; left > 0; ) {
      const n = Math.min(left, 1024 * 1024);
      yield filler.next(n);
      left -= n;
    }
  }
}
