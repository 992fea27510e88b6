/**
 * Redaction: secrets (and their URL- and JSON-encoded forms) and credential
 * shapes (auth headers, cookies, tickets, `PASS`, `user:pw@` URLs) removed from
 * text and from any value about to be logged or printed. One Redactor per run,
 * created by the CLI and fed by whoever learns a secret (the loaded config, the
 * PVE client's new tickets); the logger and the stdout stream consult it at
 * every write, so a secret learnt late is hidden from then on everywhere.
 * No winston here: the stdout stream needs this without the logger.
 */
import { Writable } from 'node:stream';

const REDACTED = '[redacted]';

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

/** The secrets of one run, and redaction with them. */
export class Redactor {
  // Private (#) so that logging or inspecting the redactor cannot reveal what it hides.
  readonly #secrets = new Set<string>();

  constructor(secrets: Iterable<string> = []) {
    this.add(...secrets);
  }

  /** Hides these from every later redaction (empty strings are ignored: they would match everywhere). */
  add(...secrets: string[]): void {
    for (const s of secrets) if (typeof s === 'string' && s.length > 0) this.#secrets.add(s);
  }

  /** The secrets known now (a copy). */
  secrets(): string[] {
    return [...this.#secrets];
  }

  redact(text: string): string {
    return redact(text, this.#secrets);
  }

  redactValue(value: unknown): unknown {
    return redactValue(value, this.#secrets);
  }
}

/**
 * A stream over `out` (stdout) that removes every secret of `redactor` and
 * every credential pattern: reports and listings are written through it, so a
 * secret that slipped into an error message cannot reach them either.
 */
export function redactingStream(
  out: NodeJS.WritableStream,
  redactor: Redactor,
): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      out.write(redactor.redact(chunk.toString()), () => cb());
    },
  });
}
