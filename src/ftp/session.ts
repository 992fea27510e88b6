/**
 * One FTP session per node run over basic-ftp, implementing RemoteFs.
 *
 * basic-ftp runs one task at a time per Client and closes the client when a
 * second one is started concurrently, so every operation goes through a queue.
 * Every path is absolute, because ensureDir/cd move the working directory.
 * A control connection the server dropped (idle timeout, NAS restart) is
 * re-established once per operation and the operation retried; a server that
 * refused (an FTP error code) is not retried. Aborting the signal closes the
 * client, which makes the running command fail at once.
 *
 * A session whose reconnect failed, or whose command failed again after the
 * reconnect, is gone (issue #8: a NAS that stops answering): `gone` fires and
 * every later command fails at once instead of waiting out its timeout again,
 * until `revive()` manages one short-timeout login (the lock release's one
 * last attempt).
 */
import { Readable, Writable } from 'node:stream';
import { Client, type FileInfo, FTPError } from 'basic-ftp';
import type { FtpConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { NasError, type NasFailure, type NasOperation } from './errors.js';
import { normalizeRemoteDir, TEMP_SUFFIX } from './layout.js';
import type { RemoteClock, RemoteEntry, RemoteFs } from './remoteFs.js';

/**
 * How to reach and log in to the NAS: the config's FTP settings (any object
 * with these fields, e.g. the whole `ftp` section), plus the idle timeout.
 */
export type FtpSettings = Pick<FtpConfig, 'host' | 'port' | 'user' | 'password' | 'secure'> & {
  /** PEM of the CA (or the self-signed certificate) the NAS certificate must chain to. */
  caPem?: string | undefined;
  /** Skip certificate verification (explicit opt-out). */
  insecure?: boolean;
  /** Idle timeout of a command or transfer; default 30 s. */
  timeoutMs?: number;
};

/** A live session; close() it when the node run ends (abort closes it too). */
export interface NasSession extends RemoteFs, RemoteClock {
  /**
   * Stream a file into `dest` (backpressure respected; `dest` is not ended). Not retried once
   * bytes flowed: a broken transfer fails, it never restarts into the same stream.
   */
  download(path: string, dest: Writable): Promise<void>;
  /** Fires once the NAS stopped answering: a command failed again after the one reconnect. */
  readonly gone: AbortSignal;
  /**
   * After `gone`: one login with `timeoutMs` for the connect and every later command
   * (the node lock's last release attempt). True when the NAS answered again.
   */
  revive(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Largest file readText() reads: manifests and lock files are a few KiB. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** FTP codes meaning "no such file or directory" for the request at hand. */
const NOT_FOUND = new Set([550, 551, 450]);

function isFtpCode(error: unknown, codes: Set<number>): boolean {
  return error instanceof FTPError && codes.has(error.code);
}

/** The parent directory and base name of an absolute path. */
function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return [i <= 0 ? '/' : path.slice(0, i), path.slice(i + 1)];
}

class FtpNasSession implements NasSession {
  readonly #settings: FtpSettings;
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;
  #client: Client;
  #timeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Set when the NAS stopped answering; cleared by a successful revive(). */
  #dead: NasError | undefined;
  readonly #gone = new AbortController();
  readonly #onAbort = () => this.#client.close();

  constructor(settings: FtpSettings, logger: Logger, signal: AbortSignal | undefined) {
    this.#settings = settings;
    this.#logger = logger;
    this.#signal = signal;
    this.#timeoutMs = settings.timeoutMs ?? 30_000;
    this.#client = this.#newClient();
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #newClient(): Client {
    return new Client(this.#timeoutMs);
  }

  get gone(): AbortSignal {
    return this.#gone.signal;
  }

  /** The NAS no longer answers: later commands fail at once with `error`'s message. */
  #markDead(error: NasError): void {
    if (this.#dead) return;
    this.#dead = error;
    this.#logger.error('the NAS does not answer: its session failed after the reconnect', {
      host: this.#settings.host,
      operation: error.operation,
      error: error.message,
    });
    this.#gone.abort(error);
  }

  async revive(timeoutMs: number): Promise<boolean> {
    if (this.#closed || this.#signal?.aborted) return false;
    if (!this.#dead) return true;
    this.#client.close();
    this.#timeoutMs = timeoutMs;
    this.#client = this.#newClient();
    try {
      await this.connect();
    } catch {
      return false;
    }
    this.#dead = undefined;
    return true;
  }

  /** Servers never should, but never let the password reach a message through server text. */
  #redact(text: string): string {
    const pw = this.#settings.password;
    return pw ? text.split(pw).join('***') : text;
  }

  #error(
    operation: NasOperation,
    path: string | undefined,
    failure: NasFailure,
    reason: string,
    cause?: unknown,
  ): NasError {
    const { host, port } = this.#settings;
    const ftpCode = cause instanceof FTPError ? cause.code : undefined;
    // The cause keeps basic-ftp's error for debugging; its message is server text without PASS.
    return new NasError(this.#redact(reason), {
      host,
      port,
      operation,
      failure,
      ...(path === undefined ? {} : { path }),
      ...(ftpCode === undefined ? {} : { ftpCode }),
      cause,
    });
  }

  #wrap(operation: NasOperation, path: string | undefined, error: unknown): NasError {
    if (error instanceof NasError) return error;
    if (this.#signal?.aborted) return this.#error(operation, path, 'aborted', 'interrupted', error);
    if (this.#closed) return this.#error(operation, path, 'closed', 'session closed', error);
    const message = errorMessage(error);
    return this.#error(
      operation,
      path,
      error instanceof FTPError ? 'refused' : 'connection',
      message,
      error,
    );
  }

  /** Log in on the current client (first connect and reconnect). */
  async connect(): Promise<void> {
    const s = this.#settings;
    const tlsOptions = {
      ...(s.caPem ? { ca: s.caPem } : {}),
      rejectUnauthorized: s.insecure !== true,
    };
    try {
      await this.#client.access({
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password,
        secure: s.secure,
        secureOptions: tlsOptions,
      });
    } catch (error) {
      this.#client.close();
      throw this.#wrap('connect', undefined, error);
    }
    this.#logger.debug('FTP session open', { host: s.host, port: s.port, secure: s.secure });
  }

  async #reconnect(operation: NasOperation, path: string | undefined, cause: unknown) {
    this.#logger.warn('FTP control connection lost; reconnecting once', {
      host: this.#settings.host,
      operation,
      path,
      reason: this.#redact(errorMessage(cause)),
    });
    this.#client.close();
    this.#client = this.#newClient();
    await this.connect();
  }

  /** Run `fn` alone on the client, reconnecting once if the connection was lost. */
  #run<T>(
    operation: NasOperation,
    path: string | undefined,
    fn: (c: Client) => Promise<T>,
  ): Promise<T> {
    const task = this.#queue.then(async () => {
      if (this.#signal?.aborted) throw this.#error(operation, path, 'aborted', 'interrupted');
      if (this.#closed) throw this.#error(operation, path, 'closed', 'session closed');
      if (this.#dead) {
        throw this.#error(
          operation,
          path,
          'connection',
          `the NAS does not answer (the session failed after its reconnect: ${this.#dead.message})`,
        );
      }
      let reconnected = false;
      for (;;) {
        try {
          // Dropped while idle: basic-ftp marks the client closed when the server sends FIN.
          if (this.#client.closed) throw new Error('control connection closed');
          return await fn(this.#client);
        } catch (error) {
          if (error instanceof FTPError || error instanceof NasError)
            throw this.#wrap(operation, path, error);
          if (this.#signal?.aborted || this.#closed) throw this.#wrap(operation, path, error);
          if (reconnected) throw this.#died(operation, path, error);
          try {
            await this.#reconnect(operation, path, error);
          } catch (failed) {
            throw this.#died(operation, path, failed);
          }
          reconnected = true;
        }
      }
    });
    this.#queue = task.catch(() => undefined);
    return task;
  }

  /** A connection failure after (or of) the reconnect: the session is gone. */
  #died(operation: NasOperation, path: string | undefined, error: unknown): NasError {
    const wrapped = this.#wrap(operation, path, error);
    if (wrapped.failure === 'connection' || wrapped.failure === 'refused') {
      if (!this.#signal?.aborted && !this.#closed) this.#markDead(wrapped);
    }
    return wrapped;
  }

  #abs(operation: NasOperation, path: string): string {
    try {
      return normalizeRemoteDir(path, 'remote path');
    } catch (error) {
      throw this.#error(operation, path, 'invalid', (error as Error).message, error);
    }
  }

  /** Whether `dir` exists as a directory (CWD works); leaves the working dir there. */
  async #cdIfExists(c: Client, dir: string): Promise<boolean> {
    try {
      await c.cd(dir);
      return true;
    } catch (error) {
      if (isFtpCode(error, NOT_FOUND)) return false;
      throw error;
    }
  }

  async #sizeOrUndefined(c: Client, path: string): Promise<number | undefined> {
    try {
      return await c.size(path);
    } catch (error) {
      if (isFtpCode(error, NOT_FOUND)) return undefined;
      throw error;
    }
  }

  async list(dir: string): Promise<RemoteEntry[] | undefined> {
    const path = this.#abs('list', dir);
    return this.#run('list', path, async (c) => {
      const infos = await this.#listOn(c, path);
      return infos?.map((i) => ({
        name: i.name,
        type: i.isDirectory ? ('dir' as const) : ('file' as const),
        size: i.isDirectory ? 0 : i.size,
      }));
    });
  }

  /** The entries of `path` (no `.`/`..`), undefined when it is not a directory. */
  async #listOn(c: Client, path: string): Promise<FileInfo[] | undefined> {
    // A path without whitespace is listed by name (no CWD round trip). LIST of a missing
    // dir is not an error on every server (vsftpd lists nothing), so an empty answer is
    // told from a missing dir by a CWD. A path with whitespace is listed from inside it:
    // servers split LIST arguments differently.
    let infos: FileInfo[];
    if (/\s/.test(path)) {
      if (!(await this.#cdIfExists(c, path))) return undefined;
      infos = await c.list();
    } else {
      try {
        infos = await c.list(path);
      } catch (error) {
        // Servers answer a missing dir with 450, 451 (ftp-srv) or 550: CWD decides.
        if (!(error instanceof FTPError)) throw error;
        if (!(await this.#cdIfExists(c, path))) return undefined;
        throw error;
      }
      // An empty answer, or one entry looking like the path itself (LIST of a plain file
      // lists that file), is what a missing dir or a file would give: CWD decides.
      const base = path.slice(path.lastIndexOf('/') + 1);
      const maybeNotADir =
        infos.length === 0 ||
        (infos.length === 1 &&
          !infos[0]!.isDirectory &&
          (infos[0]!.name === base || infos[0]!.name.includes('/')));
      if (maybeNotADir && !(await this.#cdIfExists(c, path))) return undefined;
    }
    return infos.filter((i) => i.name !== '.' && i.name !== '..');
  }

  async size(path: string): Promise<number | undefined> {
    const p = this.#abs('size', path);
    return this.#run('size', p, (c) => this.#sizeOrUndefined(c, p));
  }

  async exists(path: string): Promise<'dir' | 'file' | undefined> {
    const p = this.#abs('exists', path);
    return this.#run('exists', p, async (c) => {
      if (await this.#cdIfExists(c, p)) return 'dir';
      return (await this.#sizeOrUndefined(c, p)) === undefined ? undefined : 'file';
    });
  }

  async modifiedAt(path: string): Promise<Date | undefined> {
    const p = this.#abs('modifiedAt', path);
    return this.#run('modifiedAt', p, async (c) => {
      try {
        const time = await c.lastMod(p);
        if (Number.isNaN(time.getTime())) {
          throw this.#error('modifiedAt', p, 'invalid', 'the NAS answered MDTM with no time');
        }
        return time;
      } catch (error) {
        if (isFtpCode(error, NOT_FOUND)) return undefined;
        throw error;
      }
    });
  }

  async mkdirp(dir: string): Promise<void> {
    const p = this.#abs('mkdir', dir);
    return this.#run('mkdir', p, async (c) => {
      // Usually the parent exists: one MKD instead of ensureDir's CWD per path component.
      try {
        await c.send(`MKD ${p}`);
        return;
      } catch (error) {
        if (!(error instanceof FTPError)) throw error;
      }
      if (await this.#cdIfExists(c, p)) return;
      await c.ensureDir(p);
    });
  }

  async mkdirExclusive(dir: string): Promise<boolean> {
    const p = this.#abs('mkdir', dir);
    return this.#run('mkdir', p, async (c) => {
      try {
        // basic-ftp has no plain MKD helper (ensureDir tolerates existing dirs).
        await c.send(`MKD ${p}`);
        return true;
      } catch (error) {
        if (!(error instanceof FTPError)) throw error;
        // Something already there (a dir, or a file in the way) is "not created by us".
        if (await this.#cdIfExists(c, p)) return false;
        if ((await this.#sizeOrUndefined(c, p)) !== undefined) return false;
        throw error;
      }
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const f = this.#abs('rename', from);
    const t = this.#abs('rename', to);
    return this.#run('rename', `${f} -> ${t}`, async (c) => {
      await c.rename(f, t);
    });
  }

  async removeDir(dir: string): Promise<void> {
    const p = this.#abs('removeDir', dir);
    if (p === '/') throw this.#error('removeDir', p, 'invalid', 'refusing to remove the root');
    return this.#run('removeDir', p, (c) => this.#removeTree(c, p));
  }

  /**
   * Depth first by absolute paths: a LIST per directory, a DELE per file, an RMD per
   * directory. (basic-ftp's removeDir walks by CWD, with a PWD and a CDUP per directory.)
   */
  async #removeTree(c: Client, dir: string): Promise<void> {
    const infos = await this.#listOn(c, dir);
    if (infos === undefined) return;
    for (const i of infos) {
      // A name with a slash would reach outside the directory being removed.
      if (i.name.includes('/')) {
        throw this.#error('removeDir', dir, 'invalid', `its listing names "${i.name}"`);
      }
      const child = `${dir}/${i.name}`;
      if (i.isDirectory) await this.#removeTree(c, child);
      else await c.remove(child);
    }
    await c.send(`RMD ${dir}`);
  }

  async removeFile(path: string): Promise<void> {
    const p = this.#abs('removeFile', path);
    return this.#run('removeFile', p, async (c) => {
      try {
        await c.remove(p);
      } catch (error) {
        // 550 is also "permission denied": only a file that is really gone is success.
        if (isFtpCode(error, NOT_FOUND) && (await this.#sizeOrUndefined(c, p)) === undefined)
          return;
        throw error;
      }
    });
  }

  async download(path: string, dest: Writable): Promise<void> {
    const p = this.#abs('read', path);
    return this.#run('read', p, async (c) => {
      let written = 0;
      const sink = new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (dest.write(chunk)) cb();
          else dest.once('drain', () => cb());
        },
      });
      try {
        await c.downloadTo(sink, p);
      } catch (error) {
        if (written === 0) throw error;
        throw this.#error(
          'read',
          p,
          'connection',
          `download broke after ${written} bytes: ${errorMessage(error)}`,
        );
      }
    });
  }

  async readText(path: string): Promise<string | undefined> {
    const p = this.#abs('read', path);
    return this.#run('read', p, async (c) => {
      // SIZE first, although it costs a round trip per read: proftpd answers RETR of a
      // missing file by resetting the data connection before its 550, which would leave
      // that reply to be read as the answer to our next command.
      const size = await this.#sizeOrUndefined(c, p);
      if (size === undefined) return undefined;
      if (size > MAX_TEXT_BYTES) {
        throw this.#error(
          'read',
          p,
          'invalid',
          `file is ${size} bytes, more than ${MAX_TEXT_BYTES}`,
        );
      }
      const chunks: Buffer[] = [];
      let total = 0;
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          total += chunk.length;
          if (total > MAX_TEXT_BYTES) return cb(new TextTooLarge());
          chunks.push(chunk);
          cb();
        },
      });
      try {
        await c.downloadTo(sink, p);
      } catch (error) {
        if (error instanceof TextTooLarge || total > MAX_TEXT_BYTES) {
          throw this.#error('read', p, 'invalid', `file is more than ${MAX_TEXT_BYTES} bytes`);
        }
        if (isFtpCode(error, NOT_FOUND) && (await this.#sizeOrUndefined(c, p)) === undefined) {
          return undefined;
        }
        throw error;
      }
      return Buffer.concat(chunks).toString('utf8');
    });
  }

  async writeText(path: string, text: string, o: { tempPath?: string } = {}): Promise<void> {
    const p = this.#abs('write', path);
    const [dir, name] = splitPath(p);
    // Write aside, then rename over the target (every server replaces a file on RNTO), so a
    // reader never sees half a manifest or lock holder.
    const temp = o.tempPath
      ? this.#abs('write', o.tempPath)
      : `${dir === '/' ? '' : dir}/.${name}${TEMP_SUFFIX}`;
    return this.#run('write', p, async (c) => {
      await c.uploadFrom(Readable.from([Buffer.from(text, 'utf8')]), temp);
      await c.rename(temp, p);
    });
  }

  close(): void {
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#client.close();
  }
}

/** A text file past MAX_TEXT_BYTES: reading stops there. */
class TextTooLarge extends Error {}

/**
 * Connect and log in. Throws NasError (`connection` or `refused`, e.g. 530
 * for a wrong password) naming the host, or `aborted` when `signal` fires.
 */
export async function openNasSession(
  settings: FtpSettings,
  logger: Logger,
  signal?: AbortSignal,
): Promise<NasSession> {
  const session = new FtpNasSession(settings, logger, signal);
  if (signal?.aborted) {
    session.close();
    throw new NasError('interrupted', {
      host: settings.host,
      port: settings.port,
      operation: 'connect',
      failure: 'aborted',
    });
  }
  await session.connect();
  return session;
}
