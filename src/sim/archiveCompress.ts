/**
 * Compressed archives of an exact file size (docs/archive-formats.md). The
 * payload is sized a margin below the target so that the compressed stream
 * (mostly incompressible filler, so it barely grows) ends short of it; the gap
 * is then filled inside the container in a way every decoder accepts: an empty
 * gzip member carrying a comment, or a zstd skippable frame.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';

export type PaddedCompressor = 'gzip' | 'zstd';

/** Smallest gap each container can fill. */
const MIN_PAD: Record<PaddedCompressor, number> = { gzip: 21, zstd: 8 };

/** Payload to aim for so the compressed stream stays below `target` by at least the minimum pad. */
export function paddedPayload(compressor: PaddedCompressor, target: number): number {
  // Stored deflate blocks cost 5 bytes per ≤ 64 KiB, zstd raw blocks 3 per 128 KiB:
  // far below 1/2048 of the input; 256 bytes cover the stream headers and trailers.
  return target - MIN_PAD[compressor] - 256 - Math.ceil(target / 2048);
}

/** An empty gzip member of exactly `n` ≥ 21 bytes: its FCOMMENT field takes the room. */
export function gzipPadMember(n: number): Buffer {
  // 10 header + comment + NUL + 2 (empty final deflate block) + 8 trailer.
  const commentLen = n - 21;
  if (commentLen < 0) throw new Error(`gzip pad of ${n} bytes is below 21`);
  const b = Buffer.alloc(n);
  b.set([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 3], 0); // FLG.FCOMMENT, OS Unix
  b.fill(0x20, 10, 10 + commentLen);
  b[10 + commentLen] = 0; // comment terminator
  b.set([0x03, 0x00], 11 + commentLen); // final fixed-Huffman block holding only end-of-block
  // CRC32 and ISIZE of empty data are both zero: already zero.
  return b;
}

/** A zstd skippable frame of exactly `n` ≥ 8 bytes. */
export function zstdSkippableFrame(n: number): Buffer {
  if (n < 8) throw new Error(`zstd skippable frame of ${n} bytes is below 8`);
  const b = Buffer.alloc(n);
  b.writeUInt32LE(0x184d2a50, 0);
  b.writeUInt32LE(n - 8, 4);
  return b;
}

function counter(): { stream: Transform; bytes: () => number } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, bytes: () => n };
}

async function zstdCompress(
  payload: Iterable<Buffer>,
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  const child = spawn('zstd', ['-q', '-1', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 2000) stderr += s;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const count = counter();
  const onAbort = (): void => {
    child.kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all([
      pipeline(Readable.from(payload), child.stdin, { signal }),
      pipeline(child.stdout, count.stream, createWriteStream(file), { signal }),
    ]);
    const code = await exited;
    if (code !== 0) throw new Error(`zstd exited with ${code}: ${stderr.trim()}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return count.bytes();
}

/**
 * Compresses `payload` into `file` and pads the container to exactly `target`
 * bytes. Throws if the compressed stream overshot (the margin is wrong).
 */
export async function writePadded(
  compressor: PaddedCompressor,
  payload: Iterable<Buffer>,
  file: string,
  target: number,
  signal?: AbortSignal,
): Promise<void> {
  let written: number;
  if (compressor === 'gzip') {
    const count = counter();
    await pipeline(
      Readable.from(payload),
      createGzip({ level: constants.Z_BEST_SPEED }),
      count.stream,
      createWriteStream(file),
      { signal },
    );
    written = count.bytes();
  } else {
    written = await zstdCompress(payload, file, signal);
  }
  const gap = target - written;
  if (gap < MIN_PAD[compressor]) {
    throw new Error(`${compressor} stream of ${written} bytes leaves no room to pad to ${target}`);
  }
  await appendFile(file, compressor === 'gzip' ? gzipPadMember(gap) : zstdSkippableFrame(gap));
}
