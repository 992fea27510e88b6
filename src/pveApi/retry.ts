/**
 * Retry = a pure policy (which failure is worth another try, how long to wait)
 * plus a small wrapper. Only idempotent requests are retried (GET, and the
 * caller decides which others); POST vzdump is never blindly re-sent — the
 * client looks for the task it may have started instead (client.ts).
 */
import { errorCode, PveApiError } from './errors.js';

/** How many tries and how long to wait between them. */
export interface RetryPolicy {
  /** Total tries including the first (>= 1). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8000 };

/**
 * undici/Node error codes that mean "the connection failed or broke", as undici's
 * docs advise (classify by `err.code`, not instanceof). A closed keep-alive
 * socket (PVE closes after every >= 400 answer and after 100 requests) shows up
 * as UND_ERR_SOCKET or ECONNRESET.
 */
const TRANSIENT_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Codes that prove the request never left this host (no connection was made). */
const NOT_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * HTTP statuses worth a retry: server errors except 501 (no such endpoint on
 * this version — a fact, not a hiccup) and 506, plus 429 and PVE's proxy
 * pseudo-codes 595/596/597/599 (node or pvedaemon unreachable/busy).
 */
export function isRetryableStatus(status: number): boolean {
  if (status === 429) return true;
  if (status === 501 || status === 506) return false;
  return status >= 500 && status <= 599;
}

/** True for a transport failure (no HTTP answer) that may succeed on another try. */
export function isTransientTransportError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** True when the failure proves no request byte reached the server (safe to re-send anything). */
export function isNotSentError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && NOT_SENT_CODES.has(code);
}

/** The classifier used for idempotent requests: transient transport errors and retryable statuses. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof PveApiError && err.status !== undefined) return isRetryableStatus(err.status);
  return isTransientTransportError(err);
}

/**
 * Delay before try `attempt + 1` (attempt counts from 1): exponential growth
 * capped at maxDelayMs, "equal jitter" (half fixed, half random) so parallel
 * node runs do not retry in lock-step yet never retry immediately.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of withRetry. */
export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether this failure may be retried. */
  classify: (err: unknown) => boolean;
  signal?: AbortSignal;
  /** Called before each wait (for a log line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, attempts run out, or the signal aborts. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.policy.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || options.signal?.aborted || !options.classify(err)) throw err;
      const delay = backoffDelay(attempt, options.policy, options.random);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
