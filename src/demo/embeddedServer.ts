/**
 * An FTP server inside this process (ftp-srv 4.6.3) on 127.0.0.1, for `demo`
 * and the default test suite, which must run after `npm ci` alone.
 *
 * ftp-srv is a development dependency (a production install has no demo
 * server): it is imported when a server starts, never when this module loads,
 * and its absence is a DemoDependencyError naming it.
 *
 * ftp-srv deviates from real NAS servers in ways that matter to us, so its
 * file system is replaced:
 * - its MKD is recursive and succeeds when the directory exists; a NAS's MKD
 *   fails then, and the node lock relies on that (exclusive create);
 * - a byte quota can be set to play "disk full" for the hook tests;
 * - chosen uploads can be refused, as a NAS share denying one file does, so a
 *   test can fail exactly one guest's upload while its neighbours succeed.
 */

import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { FileSystem, FtpConnection } from 'ftp-srv';
import { importDemoDependency } from './dependencies.js';

/** Options of {@link startEmbeddedFtpServer}. */
export interface EmbeddedFtpServerOptions {
  /** Local directory that is `/` for the user. Must exist. */
  root: string;
  user: string;
  password: string;
  /** Control port on 127.0.0.1; default 0 (the OS picks a free one). */
  port?: number;
  /** PEM key and certificate: enables explicit FTPS (AUTH TLS), optional for clients. */
  tls?: { key: string; cert: string };
  /** Refuse writes that would make the tree under `root` larger than this many bytes. */
  quotaBytes?: number;
  /**
   * Refuse to store files whose path (as the client names it) matches: the
   * client gets FTP 550, like a permission error on a real NAS. Read on every
   * upload, so a test may change it between runs.
   */
  refuseWrite?: (path: string) => boolean;
}

/** A running embedded server. */
export interface EmbeddedFtpServer {
  host: string;
  port: number;
  /** Cut every client's control connection (tests: a NAS dropping the session). */
  dropClients(): number;
  close(): Promise<void>;
}

/** ftp-srv logs through bunyan; a logger that drops everything keeps test and demo output clean. */
function quietBunyan(): unknown {
  const noop = () => undefined;
  const log: Record<string, unknown> = {};
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[level] = noop;
  log.child = () => log;
  return log;
}

/** Bytes used by the files under `dir` (small test and demo trees only). */
async function usedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await usedBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/** A write stream that stores at most `allowance` bytes, then fails like a full disk (ENOSPC). */
function cappedStream(inner: NodeJS.WritableStream, allowance: number): Writable {
  let written = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const room = allowance - written;
      if (chunk.length > room) {
        if (room > 0) inner.write(chunk.subarray(0, room));
        written = allowance;
        const error = Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
        inner.end(() => callback(error));
        return;
      }
      written += chunk.length;
      inner.write(chunk, (error) => callback(error ?? null));
    },
    final(callback) {
      inner.end(() => callback());
    },
  });
}

/** ftp-srv's FileSystem made NAS-like; a class factory, as ftp-srv is loaded only at start. */
const nasLikeFileSystem = (Base: typeof FileSystem) =>
  class NasLikeFileSystem extends Base {
    readonly #quotaBytes: number | undefined;
    readonly #refuseWrite: ((path: string) => boolean) | undefined;

    constructor(
      connection: FtpConnection,
      root: string,
      limits: Pick<EmbeddedFtpServerOptions, 'quotaBytes' | 'refuseWrite'>,
    ) {
      super(connection, { root, cwd: '/' });
      this.#quotaBytes = limits.quotaBytes;
      this.#refuseWrite = limits.refuseWrite;
    }

    #fsPath(path: string): string {
      // _resolvePath is ftp-srv's own root-confined resolver; reuse it rather than re-implementing.
      const self = this as unknown as { _resolvePath(p: string): { fsPath: string } };
      return self._resolvePath(path).fsPath;
    }

    /** Non-recursive and failing on an existing directory, as MKD is on vsftpd, pure-ftpd, proftpd. */
    override async mkdir(path: string): Promise<string> {
      const fsPath = this.#fsPath(path);
      await mkdir(fsPath);
      return fsPath;
    }

    override write(fileName: string, options: { append?: boolean; start?: number } = {}): unknown {
      if (this.#refuseWrite?.(fileName)) {
        throw Object.assign(new Error('Permission denied'), { code: 'EACCES' });
      }
      const fsPath = this.#fsPath(fileName);
      const quota = this.#quotaBytes;
      // ftp-srv accepts a promise here (it wraps the call in Promise.try).
      return (async () => {
        // A STOR into a missing directory is refused (550), as by vsftpd, pure-ftpd and proftpd.
        // ftp-srv itself would open the data connection, fail the stream, leave the client
        // waiting and reject its own cleanup (an unlink of the file never created).
        const parent = await stat(dirname(fsPath)).catch(() => undefined);
        if (!parent?.isDirectory()) {
          throw Object.assign(new Error('No such file or directory'), { code: 'ENOENT' });
        }
        if (quota === undefined) return super.write(fileName, options);
        let existing = 0;
        try {
          existing = (await stat(fsPath)).size;
        } catch {
          // a new file
        }
        const used = await usedBytes(this.root);
        // Overwriting from `start` (or truncating) frees what the old file held past that point.
        const keptOfOld = options.append ? existing : Math.min(existing, options.start ?? 0);
        const allowance = Math.max(0, quota - (used - existing) - keptOfOld);
        const inner = createWriteStream(fsPath, {
          flags: options.append ? 'a' : options.start ? 'r+' : 'w',
          start: options.start,
        });
        return { stream: cappedStream(inner, allowance), clientPath: fileName };
      })();
    }
  };

/**
 * Start ftp-srv on 127.0.0.1 with one user. Passive data ports are chosen by
 * the OS per transfer. ftp-srv installs SIGINT/SIGTERM handlers that call
 * `process.exit(0)`; they are removed so the CLI keeps its own signal handling
 * (exit 130, locks released).
 */
export async function startEmbeddedFtpServer(
  options: EmbeddedFtpServerOptions,
): Promise<EmbeddedFtpServer> {
  const { FileSystem, FtpSrv } = await importDemoDependency<typeof import('ftp-srv')>('ftp-srv');
  const NasLikeFileSystem = nasLikeFileSystem(FileSystem);
  const host = '127.0.0.1';
  const signals = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const server = new FtpSrv({
    url: `ftp://${host}:${options.port ?? 0}`,
    pasv_url: host,
    // 0..0: every PASV/EPSV listens on port 0, and ftp-srv announces the port the OS gave.
    pasv_min: 0,
    pasv_max: 0,
    anonymous: false,
    tls: options.tls ? { key: options.tls.key, cert: options.tls.cert } : false,
    log: quietBunyan(),
  });
  for (const s of signals) {
    for (const listener of process.listeners(s)) {
      if (!before.get(s)?.has(listener)) process.removeListener(s, listener);
    }
  }
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    // ftp-srv leaves Nagle on: its "226" after a transfer then waits for the client's delayed
    // ACK of "150" (40 ms on Linux), every data connection. Real servers answer at once.
    (connection as unknown as { commandSocket?: Socket }).commandSocket?.setNoDelay(true);
    if (username === options.user && password === options.password) {
      resolve({ fs: new NasLikeFileSystem(connection, options.root, options) });
    } else {
      reject(new Error('Login incorrect'));
    }
  });
  // A client vanishing mid-transfer is normal in tests (drops, aborts); keep it off stderr.
  server.on('client-error', () => undefined);
  await server.listen();
  const internals = server as unknown as {
    server: { address(): { port: number } };
    connections: Record<string, { commandSocket?: { destroy(): void } }>;
  };
  const port = internals.server.address().port;
  return {
    host,
    port,
    dropClients() {
      const connections = Object.values(internals.connections);
      for (const c of connections) c.commandSocket?.destroy();
      return connections.length;
    },
    async close() {
      await server.close();
    },
  };
}
