/**
 * One-pass archive check for `verify --deep`: sha256 and size of the raw
 * bytes, decompression by the name's suffix to the end, and the content check
 * (tar or VMA). Never throws on bad input: everything wrong is a problem.
 */
import { createHash } from 'node:crypto';
import { compressionOf, createDecoder } from './decoders.js';
import { TarCheck } from './tarCheck.js';
import type { ArchiveCheckResult, ArchiveProblem, ContentChecker } from './types.js';
import { VmaCheck } from './vmaCheck.js';

export type { ArchiveCheckResult, ArchiveProblem } from './types.js';

export interface CheckArchiveOptions {
  /** The archive's file name; its suffix picks decompression and format. */
  name: string;
  /** sha256 the node computed (hex); a mismatch is a problem. */
  expectedSha256?: string;
}

function contentChecker(name: string): ContentChecker | undefined {
  const base = name.replace(/\.(gz|lzo|zst)$/, '');
  if (base.endsWith('.tar') || name.endsWith('.tgz')) return new TarCheck();
  if (base.endsWith('.vma')) return new VmaCheck();
  return undefined;
}

/** Reads `source` to its end once and reports what is wrong with the archive. */
export async function checkArchive(
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: CheckArchiveOptions,
): Promise<ArchiveCheckResult> {
  const problems: ArchiveProblem[] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  let contentBytes = 0;
  const content = contentChecker(options.name);
  if (!content) {
    problems.push({
      code: 'unknown-format',
      message: `archive name ${options.name} ends in none of .tar, .tgz, .vma (optionally .gz, .lzo, .zst)`,
    });
  }
  const decoder = createDecoder(compressionOf(options.name), (chunk) => {
    contentBytes += chunk.length;
    content?.push(chunk);
  });
  try {
    for await (const raw of source) {
      const chunk =
        typeof raw === 'string'
          ? Buffer.from(raw)
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      hash.update(chunk);
      bytes += chunk.length;
      await decoder.write(chunk);
    }
  } catch (err) {
    problems.push({
      code: 'read-failed',
      message: `reading the archive failed after ${bytes} bytes: ${err instanceof Error ? err.message : String(err)}`,
      offset: bytes,
    });
  }
  await decoder.end();
  if (decoder.error) {
    problems.push({ code: 'decompress-failed', message: `decompression failed: ${decoder.error}` });
  }
  content?.end();
  if (content) problems.push(...content.problems);
  const sha256 = hash.digest('hex');
  const expected = options.expectedSha256?.trim().toLowerCase();
  if (expected !== undefined && expected !== sha256) {
    problems.push({
      code: 'sha256-mismatch',
      message: `sha256 ${sha256} differs from the expected ${expected}`,
    });
  }
  return { ok: problems.length === 0, sha256, bytes, contentBytes, problems };
}
