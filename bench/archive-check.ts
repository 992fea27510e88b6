/**
 * Throughput of checkArchive (the core of `verify --deep`) on a generated
 * 1 GiB LXC archive per compressor, beside `sha256sum` of the same file.
 * Build and run:
 *   npx tsc -p bench/tsconfig.archive-check.json && node .tmp/bench/bench/archive-check.js
 * Knobs: BENCH_ARCHIVE_MB (default 1024), BENCH_ONLY (comma list of none,gzip,lzo,zstd),
 * BENCH_DIR (default .tmp/bench-archives; each file is deleted after its row).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { checkArchive } from '../src/archive/checkArchive.js';
import { type ArchiveCompressor, writeRealArchive } from '../src/sim/archive.js';

const MB = 1e6;
const size = Number(process.env.BENCH_ARCHIVE_MB ?? 1024) * 1024 * 1024;
const only = process.env.BENCH_ONLY?.split(',') as ArchiveCompressor[] | undefined;
const dir = process.env.BENCH_DIR ?? '.tmp/bench-archives';
const suffix: Record<ArchiveCompressor, string> = {
  none: '',
  gzip: '.gz',
  lzo: '.lzo',
  zstd: '.zst',
};

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

await mkdir(dir, { recursive: true });
console.log(
  'compressor  generate MB/s  check MB/s  check peak RSS MiB  sha256sum MB/s  check/sha256sum',
);
for (const c of only ?? (['none', 'gzip', 'lzo', 'zstd'] as const)) {
  const file = path.join(dir, `vzdump-lxc-100-2024_01_01-00_00_00.tar${suffix[c]}`);
  try {
    let t0 = process.hrtime.bigint();
    await writeRealArchive(file, 'lxc', c, 100, size);
    const gen = size / MB / seconds(t0);

    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    t0 = process.hrtime.bigint();
    const result = await checkArchive(createReadStream(file, { highWaterMark: 1024 * 1024 }), {
      name: path.basename(file),
    });
    const check = size / MB / seconds(t0);
    clearInterval(timer);
    if (!result.ok) throw new Error(`check failed: ${JSON.stringify(result.problems)}`);

    t0 = process.hrtime.bigint();
    const line = execFileSync('sha256sum', [file], { encoding: 'utf8' });
    const sha = size / MB / seconds(t0);
    if (!line.startsWith(result.sha256)) throw new Error('sha256sum disagrees with checkArchive');

    console.log(
      [
        c.padEnd(10),
        gen.toFixed(0).padStart(14),
        check.toFixed(0).padStart(11),
        ((peak - rssBefore) / 1024 / 1024).toFixed(0).padStart(19),
        sha.toFixed(0).padStart(15),
        `${((check / sha) * 100).toFixed(0)} %`.padStart(16),
      ].join(' '),
    );
  } finally {
    await rm(file, { force: true });
  }
}
