/**
 * Generators and checker stream: a 100 GiB archive yields its first chunks at
 * once (nothing is built whole), and checking 256 MiB keeps memory flat.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkArchive } from '../../../src/archive/checkArchive.js';
import { lzopStream } from '../../../src/sim/archiveLzop.js';
import { tarStream } from '../../../src/sim/archiveTar.js';
import { vmaStream } from '../../../src/sim/archiveVma.js';

const HUGE = 100 * 1024 ** 3;
const MiB = 1024 * 1024;

function firstChunks<T extends Buffer>(it: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('archive generators stream', () => {
  it('tar and VMA yield chunks of at most 1 MiB from a 100 GiB payload without building it', () => {
    for (const stream of [tarStream('lxc', 1, 1, HUGE), vmaStream(1, 1, HUGE, 0)]) {
      const chunks = firstChunks(stream[Symbol.iterator](), 8);
      expect(chunks).toHaveLength(8);
      for (const c of chunks) expect(c.length).toBeLessThanOrEqual(MiB);
    }
  });

  it('lzop wraps a 100 GiB payload block by block', async () => {
    const it = lzopStream(tarStream('lxc', 1, 1, HUGE), 0, 0)[Symbol.asyncIterator]();
    let bytes = 0;
    for (let i = 0; i < 10; i++) bytes += (await it.next()).value!.length;
    expect(bytes).toBeLessThan(4 * MiB);
    await it.return(undefined);
  });
});

describe('checkArchive memory', () => {
  it('checks a 256 MiB tar with flat memory', async () => {
    const size = 256 * MiB;
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const result = await checkArchive(Readable.from(tarStream('lxc', 9, 9, size)), {
      name: 'vzdump-lxc-9-2024_01_01-00_00_00.tar',
    });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result).toMatchObject({ ok: true, bytes: size });
    expect(peak - before).toBeLessThan(96 * MiB);
  });
});
