/**
 * Deterministic, incompressible filler for simulated archives: an AES-128-CTR
 * keystream keyed by the seed. Incompressible on purpose: a compressor's output
 * size then stays within a small, known bound of its input (docs/archive-formats.md),
 * which is what lets the simulator hit an exact compressed file size.
 */
import { createCipheriv, createHash } from 'node:crypto';

const ZEROS = Buffer.alloc(1024 * 1024);

export class Filler {
  private readonly cipher;

  constructor(seed: number, stream: string) {
    const key = createHash('sha256').update(`pve-sim-archive:${seed}:${stream}`).digest();
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  /** The next `n` bytes (n ≤ 1 MiB) of the keystream. */
  next(n: number): Buffer {
    return this.cipher.update(ZEROS.subarray(0, n));
  }
}

/** Yields `n` filler bytes in chunks of at most 1 MiB. */
export function* fillerChunks(filler: Filler, n: number): Generator<Buffer> {
  for (let left = n; left > 0; ) {
    const len = Math.min(left, ZEROS.length);
    yield filler.next(len);
    left -= len;
  }
}

/** `n` zero bytes in chunks of at most 1 MiB. */
export function* zeroChunks(n: number): Generator<Buffer> {
  for (let left = n; left > 0; ) {
    const len = Math.min(left, ZEROS.length);
    yield Buffer.alloc(len);
    left -= len;
  }
}
