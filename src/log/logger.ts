/**
 * The logger factory: one winston logger per run, passed down; modules take
 * child loggers tagged with cluster/node/guest. Secrets are removed at the
 * sink (the redaction format, fed by the run's Redactor), so no call site has
 * to remember it: the message and every piece of metadata (nested objects,
 * errors and their causes) are redacted before any transport sees the entry.
 *
 * Sinks: human lines on stderr (colour and one live progress line per node on
 * a TTY, plain lines otherwise) and, with `--log-file`, JSON lines.
 */
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston, { type Logger } from 'winston';
import { ConfigError } from '../errors.js';
import { HumanTransport, LEVELS } from './humanFormat.js';
import { ProgressBoard } from './progressBoard.js';
import { Redactor } from './redact.js';

export type { Logger };

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug' | 'silly';
const MESSAGE = Symbol.for('message');
const SPLAT = Symbol.for('splat');

/** A logger that drops everything: for tests and library callers that want no output. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

/** `-q` → warn, default info, `-v` verbose, `-vv` debug, `-vvv` silly. */
export function levelFor(o: { verbose: number; quiet: boolean }): LogLevel {
  if (o.quiet) return 'warn';
  return (['info', 'verbose', 'debug', 'silly'] as const)[Math.min(3, Math.max(0, o.verbose))]!;
}

/** The winston format that redacts a log entry in place (the entry object is winston's own copy). */
export function redactionFormat(redactor: Redactor) {
  return winston.format((info) => {
    const entry = info as Record<string | symbol, unknown>;
    for (const key of Object.keys(entry)) {
      if (key !== 'level') entry[key] = redactor.redactValue(entry[key]);
    }
    if (typeof entry[MESSAGE] === 'string') entry[MESSAGE] = redactor.redact(entry[MESSAGE]);
    if (Array.isArray(entry[SPLAT])) entry[SPLAT] = redactor.redactValue(entry[SPLAT]);
    return info;
  })();
}

export interface CreateLoggerOptions {
  level: LogLevel;
  stderr: NodeJS.WritableStream;
  /** Live progress lines (and colour unless `color` says otherwise). */
  isTty: boolean;
  color?: boolean;
  /** `--log-file`: JSON lines, appended, mode 0600, at least debug level. */
  logFile?: string;
  /** The run's secrets, consulted at every entry (secrets added later count too). Default: none but the patterns. */
  redactor?: Redactor;
}

const BOARD = Symbol('pve-ftp-backup.progressBoard');
const CLOSERS = Symbol('pve-ftp-backup.closers');
const REDACTOR = Symbol('pve-ftp-backup.redactor');
type Extras = {
  [BOARD]?: ProgressBoard;
  [CLOSERS]?: (() => Promise<void>)[];
  [REDACTOR]?: Redactor;
};

/**
 * The run's logger. Close it with closeLogger() so the log file is flushed
 * and the progress lines are erased.
 * @throws ConfigError when the log file cannot be opened.
 */
export function createLogger(o: CreateLoggerOptions): Logger {
  const redactor = o.redactor ?? new Redactor();
  const board = new ProgressBoard(o.stderr, o.isTty);
  const closers: (() => Promise<void>)[] = [];
  const threshold = LEVELS[o.level] ?? 2;
  // The most verbose level any transport takes: stderr's level; on a TTY also the progress
  // lines (verbose) that the board shows live; the log file at debug at least.
  let widest = Math.max(threshold, o.isTty ? (LEVELS.verbose ?? 4) : 0);
  const transports: winston.transport[] = [
    new HumanTransport(board, threshold, o.isTty, o.color ?? o.isTty),
  ];
  if (o.logFile !== undefined) {
    let fd: number;
    try {
      fd = openSync(o.logFile, 'a', 0o600);
    } catch (err) {
      throw new ConfigError(
        `--log-file ${o.logFile}: cannot open (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const stream = createWriteStream('', { fd, autoClose: true });
    const fileLevel = threshold > (LEVELS.debug ?? 5) ? o.level : 'debug';
    widest = Math.max(widest, LEVELS[fileLevel] ?? 5);
    transports.push(
      new winston.transports.Stream({
        stream,
        level: fileLevel,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      }),
    );
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          stream.end(() => resolve());
          stream.once('error', () => {
            try {
              closeSync(fd);
            } catch {}
            resolve();
          });
        }),
    );
  }
  const logger = winston.createLogger({
    level: 'silly',
    levels: winston.config.npm.levels,
    format: redactionFormat(redactor),
    transports,
    exitOnError: false,
  }) as Logger & Extras;
  dropBeyond(logger, widest);
  logger[BOARD] = board;
  logger[CLOSERS] = closers;
  logger[REDACTOR] = redactor;
  return logger;
}

/**
 * Makes the level methods more verbose than `widest` return at once. winston
 * itself filters by level only in each transport, after the entry went through
 * its stream and the redaction format (which walks every value): 20–30 µs of
 * CPU per entry thrown away, e.g. the debug line of every PVE API call under
 * cron (~0.2 ms per guest), against ~0.3 µs now. Children (`logger.child`)
 * inherit these methods: winston makes a child with Object.create(logger).
 */
function dropBeyond(logger: Logger, widest: number): void {
  const methods = logger as unknown as Record<string, unknown>;
  for (const [level, rank] of Object.entries(LEVELS)) {
    if (rank > widest) {
      methods[level] = function (this: Logger | undefined) {
        return this ?? logger;
      };
    }
  }
}

/** Sets (or with no text, removes) the live progress line of `node`; plain verbose line when not a TTY. */
export function progress(logger: Logger, node: string, text?: string): void {
  if (text === undefined || text === '') {
    (logger as Logger & Extras)[BOARD]?.set(node, undefined);
    return;
  }
  logger.verbose(`${node}: ${text}`, { node, progress: true });
}

/**
 * A stream for text that must not be torn by the progress lines (the final
 * report): writes go above the board, redacted with the logger's redactor.
 * Plain (pattern-redacted) passthrough for other loggers.
 */
export function loggerStderr(logger: Logger, stderr: NodeJS.WritableStream): NodeJS.WritableStream {
  const x = logger as Logger & Extras;
  const board = x[BOARD];
  const redactor = x[REDACTOR] ?? new Redactor();
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const text = redactor.redact(chunk.toString());
      if (board) board.write(text);
      else stderr.write(text);
      cb();
    },
  });
}

/** Erases the progress lines, flushes and closes the log file. */
export async function closeLogger(logger: Logger): Promise<void> {
  const x = logger as Logger & Extras;
  x[BOARD]?.clear();
  // Let winston hand queued entries to the transports before the file is ended.
  await new Promise((r) => setImmediate(r));
  await Promise.all((x[CLOSERS] ?? []).map((c) => c()));
}
