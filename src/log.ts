/**
 * Logging: one winston logger per run, passed down; modules take child loggers
 * tagged with cluster/node/guest. Secrets are removed at the sink (redaction
 * format), so no call site has to remember it: the logger's own format redacts
 * the message and every piece of metadata (nested objects, errors and their
 * causes) before any transport sees the entry.
 *
 * Sinks: human lines on stderr (colour and one live progress line per node on
 * a TTY, plain lines otherwise) and, with `--log-file`, JSON lines.
 */
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston, { type Logger } from 'winston';
// Types only: winston's own dependency, reached at runtime through winston.Transport.
import type TransportStream from 'winston-transport';
import { ConfigError } from './errors.js';

export type { Logger };

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug' | 'silly';
const LEVELS: Record<string, number> = winston.config.npm.levels;
const MESSAGE = Symbol.for('message');
const SPLAT = Symbol.for('splat');
const REDACTED = '[redacted]';

/** A logger that drops everything: for tests and library callers that want no output. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

/** `-q` → warn, default info, `-v` verbose, `-vv` debug, `-vvv` silly. */
export function levelFor(o: { verbose: number; quiet: boolean }): LogLevel {
  if (o.quiet) return 'warn';
  return (['info', 'verbose', 'debug', 'silly'] as const)[Math.min(3, Math.max(0, o.verbose))]!;
}

// Process-wide: a secret learnt anywhere (config, a new ticket) must be hidden from every sink.
const registry = new Set<string>();

/** Registers secrets (token secret, password, ticket, CSRF token…) for redaction in every logger. */
export function addSecrets(...secrets: string[]): void {
  for (const s of secrets) if (typeof s === 'string' && s.length > 0) registry.add(s);
}

/** Header, cookie and body shapes that carry a credential whatever its value. */
const PATTERNS: [RegExp, string][] = [
  [/(PVEAPIToken=[^\s=]+=)[^\s'",;]+/g, `$1${REDACTED}`],
  [/(PVEAuthCookie=)[^\s'",;]+/g, `$1${REDACTED}`],
  [/(CSRFPreventionToken["']?\s*[:=]\s*["']?)[^\s'",;}]+/gi, `$1${REDACTED}`],
  [/(PVE(?::|%3A)[^\s:%]+(?::|%3A)[0-9A-Fa-f]{8}(?:::|%3A%3A))[^\s'",;]+/g, `$1${REDACTED}`],
  [/("(?:ticket|password|secret)"\s*:\s*")(?:[^"\\]|\\.)*/g, `$1${REDACTED}`],
  [/(\b(?:password|secret)=)[^\s&'",;]+/gi, `$1${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  [/(\bPASS )\S+/g, `$1${REDACTED}`],
];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Removes every secret (and its URL- and JSON-encoded forms) and every credential pattern. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a secret containing another is removed whole.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  if (sorted.length > 0)
    out = out.replace(new RegExp(sorted.map(escapeRe).join('|'), 'g'), REDACTED);
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}

/**
 * A redacted deep copy of `value`: strings redacted, Errors turned into plain
 * objects (name, message, stack, cause, own fields) so their messages and
 * causes are covered too. Never mutates its input (it may be someone's error).
 */
export function redactValue(
  value: unknown,
  secrets: Iterable<string>,
  depth = 0,
  seen = new WeakSet<object>(),
): unknown {
  const list = [...secrets];
  const walk = (v: unknown, d: number): unknown => {
    if (typeof v === 'string') return redact(v, list);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v) || d > 8) return '[…]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => walk(x, d + 1));
      const out: Record<string, unknown> = {};
      if (v instanceof Error) {
        out.name = v.name;
        out.message = walk(v.message, d + 1);
        if (v.stack) out.stack = walk(v.stack, d + 1);
        if (v.cause !== undefined) out.cause = walk(v.cause, d + 1);
        if (v instanceof AggregateError) out.errors = walk(v.errors, d + 1);
      }
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, d + 1);
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, depth);
}

/** The winston format that redacts a log entry in place (the entry object is winston's own copy). */
export function redactionFormat(secrets: () => Iterable<string>) {
  return winston.format((info) => {
    const list = [...secrets(), ...registry];
    const entry = info as Record<string | symbol, unknown>;
    for (const key of Object.keys(entry)) {
      if (key !== 'level') entry[key] = redactValue(entry[key], list);
    }
    if (typeof entry[MESSAGE] === 'string') entry[MESSAGE] = redact(entry[MESSAGE] as string, list);
    if (Array.isArray(entry[SPLAT])) entry[SPLAT] = redactValue(entry[SPLAT], list);
    return info;
  })();
}

/** Draws one live line per node at the bottom of a TTY and keeps log lines above it. */
class ProgressBoard {
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly live: boolean,
  ) {}
  set(node: string, text: string | undefined): void {
    if (text === undefined || text === '') this.lines.delete(node);
    else this.lines.set(node, text);
    this.write('');
  }
  /** Writes `text` above the board (clear, write, redraw). */
  write(text: string): void {
    if (!this.live) {
      if (text) this.out.write(text);
      return;
    }
    let buf = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[0J` : '';
    buf += text;
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    for (const [node, line] of this.lines) buf += `${`${node}: ${line}`.slice(0, width)}\n`;
    this.drawn = this.lines.size;
    this.out.write(buf);
  }
  clear(): void {
    this.lines.clear();
    this.write('');
  }
}

export interface CreateLoggerOptions {
  level: LogLevel;
  stderr: NodeJS.WritableStream;
  /** Live progress lines (and colour unless `color` says otherwise). */
  isTty: boolean;
  color?: boolean;
  /** `--log-file`: JSON lines, appended, mode 0600, at least debug level. */
  logFile?: string;
  /** Secrets known to the caller; consulted at every entry (plus addSecrets'). */
  secrets?: () => Iterable<string>;
}

const BOARD = Symbol('pve-ftp-backup.progressBoard');
const CLOSERS = Symbol('pve-ftp-backup.closers');
type Extras = { [BOARD]?: ProgressBoard; [CLOSERS]?: (() => Promise<void>)[] };

/** Human one-liner: `12:00:01 warn  [home/pve1 101] message key=value`. */
function humanLine(info: Record<string, unknown>, color: boolean): string {
  // runId is on every line of a run: useful in the JSON file, noise on a terminal.
  const {
    level,
    message,
    timestamp: _t,
    cluster,
    node,
    guest,
    vmid,
    progress,
    runId: _r,
    ...meta
  } = info;
  let text = String(message);
  // A progress entry reads `node: text`; the tag already names the node.
  if (progress === true && typeof node === 'string' && text.startsWith(`${node}: `)) {
    text = text.slice(node.length + 2);
  }
  const tagParts = [[cluster, node].filter(Boolean).join('/'), guest ?? vmid].filter(
    (x) => x !== undefined && x !== '',
  );
  const tag = tagParts.length > 0 ? ` [${tagParts.join(' ')}]` : '';
  const time = new Date().toTimeString().slice(0, 8);
  const lvl = String(level).padEnd(7);
  const painted = color ? winston.format.colorize().colorize(String(level), lvl) : lvl;
  const rest = Object.entries(meta)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => {
      if (v && typeof v === 'object' && 'message' in v)
        return `${k}=${String((v as { message: unknown }).message)}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return `${time} ${painted}${tag} ${text}${rest.length ? ` ${rest.join(' ')}` : ''}\n`;
}

// winston exports the base class as `Transport` at runtime but types it as `transport`.
const TransportBase = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/** stderr sink: level filter of its own, so progress entries can reach a TTY board at any level. */
class HumanTransport extends TransportBase {
  constructor(
    private readonly board: ProgressBoard,
    private readonly threshold: number,
    private readonly live: boolean,
    private readonly color: boolean,
  ) {
    super({ level: 'silly' });
  }
  override log(info: Record<string, unknown>, next: () => void): void {
    const isProgress = info.progress === true && typeof info.node === 'string';
    if (isProgress && this.live) {
      const prefix = `${info.node}: `;
      const msg = String(info.message);
      this.board.set(info.node as string, msg.startsWith(prefix) ? msg.slice(prefix.length) : msg);
    } else if ((LEVELS[String(info.level)] ?? 0) <= this.threshold) {
      this.board.write(humanLine(info, this.color));
    }
    next();
  }
}

/**
 * The run's logger. Close it with closeLogger() so the log file is flushed
 * and the progress lines are erased.
 * @throws ConfigError when the log file cannot be opened.
 */
export function createLogger(o: CreateLoggerOptions): Logger {
  const board = new ProgressBoard(o.stderr, o.isTty);
  const closers: (() => Promise<void>)[] = [];
  const transports: winston.transport[] = [
    new HumanTransport(board, LEVELS[o.level] ?? 2, o.isTty, o.color ?? o.isTty),
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
    const fileLevel = (LEVELS[o.level] ?? 2) > (LEVELS.debug ?? 5) ? o.level : 'debug';
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
    format: redactionFormat(o.secrets ?? (() => [])),
    transports,
    exitOnError: false,
  }) as Logger & Extras;
  logger[BOARD] = board;
  logger[CLOSERS] = closers;
  return logger;
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
 * report): writes go above the board, redacted. Plain passthrough for other loggers.
 */
export function loggerStderr(logger: Logger, stderr: NodeJS.WritableStream): NodeJS.WritableStream {
  const board = (logger as Logger & Extras)[BOARD];
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const text = redact(chunk.toString(), registry);
      if (board) board.write(text);
      else stderr.write(text);
      cb();
    },
  });
}

/**
 * A stream over `out` (stdout) that removes every registered secret and
 * credential pattern: reports and listings are written through it, so a
 * secret that slipped into an error message cannot reach them either.
 */
export function redactingStream(out: NodeJS.WritableStream): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      out.write(redact(chunk.toString(), registry), () => cb());
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
