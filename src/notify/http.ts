/**
 * One notification request with undici (the project's one HTTP client),
 * bounded in time. Problems are described by status or error code only: an
 * error message could quote the URL, and the URL is a secret.
 */
import type { Dispatcher } from '../undiciParts.js';
import type { AttemptResult } from './attempts.js';

export interface NotifyRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Statuses worth the one retry: the service is busy or broken right now. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** The caller's abort, or the per-attempt bound: which one ended the attempt. */
function timeoutOrAbort(timeout: AbortSignal, timeoutMs: number): string {
  return timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : 'aborted';
}

/** Sends `req` once; at most `timeoutMs` from the first byte sent to the last byte read. */
export async function sendOnce(
  req: NotifyRequest,
  o: { dispatcher: Dispatcher; timeoutMs: number; signal?: AbortSignal },
): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  try {
    // origin and path as undici's own request(url) splits them (user info is not sent).
    const url = new URL(req.url);
    const res = await o.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
    });
    // The answer's body is not used, but it must be read for the connection to be done.
    await res.body.dump({ limit: 64 * 1024, signal });
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
    return {
      ok: false,
      problem: `HTTP ${res.statusCode}`,
      retry: retryableStatus(res.statusCode),
    };
  } catch (err) {
    if (signal.aborted)
      return {
        ok: false,
        problem: timeoutOrAbort(timeout, o.timeoutMs),
        retry: !o.signal?.aborted,
      };
    const code = (err as { code?: unknown }).code;
    return { ok: false, problem: typeof code === 'string' ? code : 'request failed', retry: true };
  }
}
