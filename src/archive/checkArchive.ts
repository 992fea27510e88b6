/**
 * One-pass archive check for `verify --deep`: sha256 and size of the raw
 * bytes, decompression by the name's suffix to the end, and the content check
 * (tar or VMA). Never throws on bad input: everything wrong is a problem.
 *
 * `ArchiveChecker` is fed chunk by chunk (a download writes into it as the
 * bytes arrive, with no stream of its own in between); `checkArchive` reads a
 * whole source through one.
 */
import { createHash } from 'node:crypto';
import { compressionOf, createDecoder, type Decoder } from './decoders.js';
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

/** Checks one archive as its raw bytes are written in order; `finish` once at the end. */
export class ArchiveChecker {
  readonly #problems: ArchiveProblem[] = [];
  readonly #hash = createHash('sha256');
  readonly #content: ContentChecker | undefined;
  readonly #decoder: Decoder;
  readonly #expected: string | undefined;
  #bytes = 0;
  #contentBytes = 0;

  constructor(options: CheckArchiveOptions) {
    this.#expected = options.expectedSha256?.trim().toLowerCase();
    this.#content = contentChecker(options.name);
    if (!this.#content) {
      this.#problems.push({
        code: 'unknown-format',
        message: `archive name ${options.name} ends in none of .tar, .tgz, .vma (optionally .gz, .lzo, .zst)`,
      });
    }
    const content = this.#content;
    this.#decoder = createDecoder(compressionOf(options.name), (chunk) => {
      this.#contentBytes += chunk.length;
      content?.push(chunk);
    });
  }

  /** Raw bytes read so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Takes the next raw chunk; resolves when the decompressor can take more. */
  write(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    return this.#decoder.write(chunk);
  }

  /** The source broke off: a problem at the byte reached, then finish as usual. */
  readFailed(err: unknown): void {
    this.#problems.push({
      code: 'read-failed',
      message: `reading the archive failed after ${this.#bytes} bytes: ${err instanceof Error ? err.message : String(err)}`,
      offset: this.#bytes,
    });
  }

  /** Ends decompression and the content check; the verdict over everything written. */
  async finish(): Promise<ArchiveCheckResult> {
    const problems = this.#problems;
    await this.#decoder.end();
    if (this.#decoder.error) {
      problems.push({
        code: 'decompress-failed',
        message: `decompression failed: ${this.#decoder.error}`,
      });
    }
    this.#content?.end();
    if (this.#content) problems.push(...this.#content.problems);
    const sha256 = this.#hash.digest('hex');
    if (this.#expected !== undefined && this.#expected !== sha256) {
      problems.push({
        code: 'sha256-mismatch',
        message: `sha256 ${sha256} differs from the expected ${this.#expected}`,
      });
    }
    return {
      ok: problems.length === 0,
      sha256,
      bytes: this.#bytes,
      contentBytes: this.#contentBytes,
      problems,
    };
  }
}

/** Reads `source` to its end once and reports what is wrong with the archive. */
export async function checkArchive(
  source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: CheckArchiveOptions,
): Promise<ArchiveCheckResult> {
  const checker = new ArchiveChecker(options);
  try {
    for await (const raw of source) {
      await checker.write(
        typeof raw === 'string'
          ? Buffer.from(raw)
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
      );
    }
  } catch (err) {
    checker.readFailed(err);
  }
  return checker.finish();
}
