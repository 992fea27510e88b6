/**
 * "10 s and one retry" (DESIGN.md "Configuration"), shared by the HTTP targets
 * and the command: an attempt either succeeds, fails for good, or fails in a
 * way worth one more try after a short pause.
 */

export type AttemptResult = { ok: true } | { ok: false; problem: string; retry: boolean };

export type SendResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; problem: string };

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs `attempt` once, and once more after `retryDelayMs` when it asks for a retry. */
export async function withOneRetry(
  attempt: () => Promise<AttemptResult>,
  o: { retryDelayMs: number; signal?: AbortSignal },
): Promise<SendResult> {
  const first = await attempt();
  if (first.ok) return { ok: true, attempts: 1 };
  if (!first.retry || o.signal?.aborted) return { ok: false, attempts: 1, problem: first.problem };
  await pause(o.retryDelayMs, o.signal);
  if (o.signal?.aborted)
    return { ok: false, attempts: 1, problem: `${first.problem}; gave up (aborted)` };
  const second = await attempt();
  if (second.ok) return { ok: true, attempts: 2 };
  return { ok: false, attempts: 2, problem: second.problem };
}
