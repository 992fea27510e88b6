/**
 * Timers the orchestrator waits on. A sleep ends early (resolves) when any of
 * `wake` aborts — used to react at once to a "stop now" request — and rejects
 * with the signal's reason when `signal` aborts.
 */

/** Wait `ms`; resolve early when a `wake` signal aborts; reject when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, wake: AbortSignal[] = []): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (wake.some((w) => w.aborted)) {
      resolve();
      return;
    }
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      for (const w of wake) w.removeEventListener('abort', onWake);
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason);
    };
    const onWake = () => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    for (const w of wake) w.addEventListener('abort', onWake, { once: true });
  });
}
