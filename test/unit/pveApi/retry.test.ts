import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PveApiError } from '../../../src/pveApi/errors.js';
import {
  backoffDelay,
  isNotSentError,
  isRetryable,
  isRetryableStatus,
  type RetryPolicy,
  withRetry,
} from '../../../src/pveApi/retry.js';

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 350 };

function apiError(status?: number, code?: string): PveApiError {
  return new PveApiError({ cluster: 'c', method: 'GET', path: '/x', status, code });
}

function codeError(code: string): Error {
  return Object.assign(new Error('boom'), { code });
}

describe('retry policy (pure)', () => {
  it('retries server errors and PVE proxy pseudo-codes, not 501, 506 or client errors', () => {
    for (const s of [429, 500, 502, 503, 504, 595, 596, 599])
      expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 501, 506, 200])
      expect(isRetryableStatus(s), String(s)).toBe(false);
  });

  it('classifies transport errors by code, through the cause chain', () => {
    expect(isRetryable(apiError(undefined, 'UND_ERR_SOCKET'))).toBe(true);
    expect(isRetryable(new Error('wrapped', { cause: codeError('ECONNRESET') }))).toBe(true);
    expect(isRetryable(codeError('UND_ERR_HEADERS_TIMEOUT'))).toBe(true);
    expect(isRetryable(codeError('ERR_INVALID_ARG_TYPE'))).toBe(false);
    expect(isRetryable(new Error('no code'))).toBe(false);
    expect(isRetryable(apiError(596))).toBe(true);
    expect(isRetryable(apiError(400))).toBe(false);
  });

  it('knows which failures prove the request was never sent', () => {
    expect(isNotSentError(codeError('ECONNREFUSED'))).toBe(true);
    expect(isNotSentError(codeError('UND_ERR_CONNECT_TIMEOUT'))).toBe(true);
    expect(isNotSentError(codeError('UND_ERR_SOCKET'))).toBe(false);
    expect(isNotSentError(codeError('UND_ERR_HEADERS_TIMEOUT'))).toBe(false);
  });

  it('backs off exponentially with equal jitter, capped', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(2, policy, () => 0)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(350);
    expect(backoffDelay(10, policy, () => 1)).toBe(350);
    expect(backoffDelay(10, policy, () => 0)).toBe(175);
  });
});

describe('withRetry (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits the backoff between tries and returns the first success', async () => {
    const calls: number[] = [];
    const fn = vi.fn(async (attempt: number) => {
      calls.push(Date.now());
      if (attempt < 3) throw apiError(503);
      return 'ok';
    });
    const p = withRetry(fn, { policy, classify: isRetryable, random: () => 1 });
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(200);
    await expect(p).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(calls[1]! - calls[0]!).toBe(100);
    expect(calls[2]! - calls[1]!).toBe(200);
  });

  it('a 501 (endpoint missing on this PVE version) ends the loop at once', async () => {
    let n = 0;
    const p = withRetry(
      async () => {
        n++;
        throw apiError(500 + n);
      },
      { policy, classify: isRetryable, random: () => 0 },
    );
    const caught = p.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = (await caught) as PveApiError;
    expect(n).toBe(1);
    expect(err.status).toBe(501);
  });

  it('gives up after the configured attempts with the last error', async () => {
    let n = 0;
    const p = withRetry(
      async () => {
        n++;
        throw apiError(503);
      },
      { policy, classify: isRetryable, random: () => 0 },
    );
    const caught = p.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(((await caught) as PveApiError).status).toBe(503);
    expect(n).toBe(policy.attempts);
  });

  it('does not retry a non-retryable error', async () => {
    const fn = vi.fn(async () => {
      throw apiError(400);
    });
    await expect(withRetry(fn, { policy, classify: isRetryable })).rejects.toMatchObject({
      status: 400,
    });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('an abort during the wait rejects with the signal reason and stops retrying', async () => {
    const ac = new AbortController();
    const fn = vi.fn(async () => {
      throw apiError(503);
    });
    const p = withRetry(fn, { policy, classify: isRetryable, signal: ac.signal, random: () => 1 });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    ac.abort(new Error('user pressed ^C'));
    expect(((await caught) as Error).message).toBe('user pressed ^C');
    await vi.runAllTimersAsync();
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
