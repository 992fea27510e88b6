/**
 * An lzop container (the `.lzo` vzdump writes) whose blocks are all stored, the
 * way lzop itself stores a block that does not compress (docs/archive-formats.md).
 * Stored blocks make the file size an exact function of the payload size, so
 * the simulator can hit any size without padding, and `lzop -t` accepts it.
 */

const MAGIC = Buffer.from([0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]);
export const LZOP_BLOCK = 256 * 1024;
/** src_len, dst_len, adler32 of the uncompressed block. */
const BLOCK_OVERHEAD = 12;
const END_MARKER = 4;
const F_ADLER32_D = 0x1;
const F_OS_UNIX = 0x03000000;

/** Adler-32 as lzop uses it (initial value 1). */
export function adler32(buf: Buffer, start = 1): number {
  let a = start & 0xffff;
  let b = start >>> 16;
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(buf.length, i + 5552);
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function header(nameLen: number, mtime: number): Buffer {
  const fields = Buffer.alloc(2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 4 + 1 + nameLen);
  let o = 0;
  o = fields.writeUInt16BE(0x1040, o); // lzop version
  o = fields.writeUInt16BE(0x20a0, o); // LZO library version
  o = fields.writeUInt16BE(0x0940, o); // version needed to extract
  o = fields.writeUInt8(1, o); // method: LZO1X-1
  o = fields.writeUInt8(3, o); // level
  o = fields.writeUInt32BE(F_ADLER32_D | F_OS_UNIX, o);
  o = fields.writeUInt32BE(0o100644, o);
  o = fields.writeUInt32BE(mtime, o);
  o = fields.writeUInt32BE(0, o);
  o = fields.writeUInt8(nameLen, o);
  // vzdump pipes into lzop, which then has no file name; a name only pads to size.
  fields.fill(0x5f, o);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(adler32(fields));
  return Buffer.concat([MAGIC, fields, sum]);
}

const HEADER_BASE = header(0, 0).length;

function fileSize(payload: number, nameLen: number): number {
  return (
    HEADER_BASE + nameLen + payload + BLOCK_OVERHEAD * Math.ceil(payload / LZOP_BLOCK) + END_MARKER
  );
}

/**
 * The payload size and header name length that make an lzop file of exactly
 * `target` bytes, or undefined when `target` is below the smallest such file
 * with at least `minPayload` bytes.
 */
export function lzopPlan(
  target: number,
  minPayload: number,
): { payload: number; nameLen: number } | undefined {
  for (let nameLen = 0; nameLen <= BLOCK_OVERHEAD + 1; nameLen++) {
    const room = target - HEADER_BASE - nameLen - END_MARKER;
    const blocks = Math.ceil(room / (LZOP_BLOCK + BLOCK_OVERHEAD));
    for (const k of [blocks - 1, blocks, blocks + 1]) {
      const payload = room - BLOCK_OVERHEAD * k;
      if (payload >= minPayload && payload > 0 && fileSize(payload, nameLen) === target) {
        return { payload, nameLen };
      }
    }
  }
  return undefined;
}

/** Wraps a payload stream into lzop stored blocks. */
export async function* lzopStream(
  payload: Iterable<Buffer>,
  nameLen: number,
  mtime: number,
): AsyncGenerator<Buffer> {
  yield header(nameLen, mtime);
  const pending: Buffer[] = [];
  let pendingLen = 0;
  const block = (data: Buffer): Buffer[] => {
    const h = Buffer.alloc(BLOCK_OVERHEAD);
    h.writeUInt32BE(data.length, 0);
    h.writeUInt32BE(data.length, 4);
    h.writeUInt32BE(adler32(data), 8);
    return [h, data];
  };
  for (const chunk of payload) {
    pending.push(chunk);
    pendingLen += chunk.length;
    while (pendingLen >= LZOP_BLOCK) {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      yield* block(all.subarray(0, LZOP_BLOCK));
      pending.length = 0;
      pendingLen -= LZOP_BLOCK;
      if (pendingLen > 0) pending.push(all.subarray(LZOP_BLOCK));
    }
  }
  if (pendingLen > 0) yield* block(Buffer.concat(pending, pendingLen));
  yield Buffer.alloc(END_MARKER);
}
