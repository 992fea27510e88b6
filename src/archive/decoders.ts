/**
 * Decompressors for vzdump's archive suffixes, as push streams with
 * backpressure: gzip through node:zlib, zstd and lzo through the system
 * `zstd` and `lzop` binaries (Node 20 has neither; docs/archive-formats.md says
 * why binaries). A decoder never throws: failures become `error`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'lzo' | 'zstd';

export interface Decoder {
  /** Feeds raw bytes; resolves when the decoder can take more. */
  write(chunk: Buffer): Promise<void>;
  /** Ends input; resolves after the last output chunk went to `onData`. */
  end(): Promise<void>;
  /** The first failure, if any (corrupt data, decoder missing or crashed). */
  readonly error: string | undefined;
}

/** The compression an archive name's suffix implies. */
export function compressionOf(name: string): Compression {
  if (/\.(gz|tgz)$/.test(name)) return 'gzip';
  if (name.endsWith('.lzo')) return 'lzo';
  if (name.endsWith('.zst')) return 'zstd';
  return 'none';
}

/** Raw bytes queued for a decompressor before the writer waits for it (bounds memory). */
const QUEUE_BYTES = 4 * 1024 * 1024;

class StreamDecoder implements Decoder {
  error: string | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly input: Writable,
    output: NodeJS.ReadableStream & { on(e: 'data', l: (c: Buffer) => void): unknown },
    onData: (chunk: Buffer) => void,
    finished: Promise<string | undefined>,
  ) {
    input.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: the decoder quit early; its own exit status says why.
      if (err.code !== 'EPIPE') this.fail(err.message);
    });
    output.on('data', (c: Buffer) => {
      if (!this.error) onData(c);
    });
    this.closed = finished.then((err) => {
      if (err) this.fail(err);
    });
  }

  private fail(message: string): void {
    this.error ??= message;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.error || this.input.destroyed || this.input.writableEnded) return;
    // A pipe's own buffer is 16 KiB: waiting for it to drain after every network
    // chunk makes the download wait on each round trip to the decompressor.
    if (!this.input.write(chunk) && this.input.writableLength > QUEUE_BYTES) {
      await Promise.race([once(this.input, 'drain'), this.closed]).catch(() => undefined);
    }
  }

  async end(): Promise<void> {
    if (!this.input.writableEnded && !this.input.destroyed) this.input.end();
    await this.closed;
  }
}

function gunzip(onData: (chunk: Buffer) => void): Decoder {
  // Large output chunks: each zlib chunk is one thread-pool round trip (16 KiB default halves throughput).
  const z = createGunzip({ chunkSize: 256 * 1024 });
  const finished = new Promise<string | undefined>((resolve) => {
    z.on('error', (err) => resolve(`gzip: ${err.message}`));
    z.on('end', () => resolve(undefined));
  });
  return new StreamDecoder(z, z, onData, finished);
}

function external(cmd: 'zstd' | 'lzop', onData: (chunk: Buffer) => void): Decoder {
  const args = cmd === 'zstd' ? ['-dcq'] : ['-dcq'];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 1000) stderr += s;
  });
  const outputDone = once(child.stdout, 'end').catch(() => undefined);
  const finished = new Promise<string | undefined>((resolve) => {
    child.on('error', (err) => resolve(`${cmd} could not run: ${err.message}`));
    child.on('close', async (code, sig) => {
      await outputDone;
      if (code === 0) resolve(undefined);
      else resolve(`${cmd}: ${stderr.trim().split('\n')[0] || `exit ${code ?? sig}`}`);
    });
  });
  return new StreamDecoder(child.stdin, child.stdout, onData, finished);
}

/** A decoder for `compression` that hands its output to `onData`. */
export function createDecoder(compression: Compression, onData: (chunk: Buffer) => void): Decoder {
  switch (compression) {
    case 'gzip':
      return gunzip(onData);
    case 'zstd':
      return external('zstd', onData);
    case 'lzo':
      return external('lzop', onData);
    default: {
      let ended = false;
      return {
        error: undefined,
        write: async (chunk) => {
          if (!ended) onData(chunk);
        },
        end: async () => {
          ended = true;
        },
      };
    }
  }
}
