/**
 * Scenario faults: bursts of error answers or lost answers on matching
 * requests (consumed one per request) and slow paths.
 */
import type { SimHttpFault, SimSlowPath } from './scenario.js';

const DEFAULT_REASONS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  595: 'Errors during connection establishment, proxy handshake: Connection refused',
  596: 'Errors during TLS negotiation, request sending and header processing: Connection timed out',
  597: 'Connection timed out',
  599: 'Internal Exception',
};

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

export class FaultPlan {
  readonly #http: { fault: SimHttpFault; left: number }[] = [];

  constructor(
    http: SimHttpFault[],
    private readonly slow: SimSlowPath[],
  ) {
    for (const f of http) this.add(f);
  }

  add(fault: SimHttpFault): void {
    this.#http.push({ fault: { ...fault }, left: fault.count });
  }

  /** Consumes one matching HTTP fault, if any is left. */
  take(method: string, path: string): (SimHttpFault & { reason: string }) | undefined {
    for (const entry of this.#http) {
      const f = entry.fault;
      if (entry.left <= 0 || (f.method && f.method !== method) || !matches(f.path, path)) continue;
      entry.left--;
      return { ...f, reason: f.reason ?? DEFAULT_REASONS[f.status] ?? 'Simulated failure' };
    }
    return undefined;
  }

  /** Total extra delay for a path. */
  delayMs(path: string): number {
    return this.slow.filter((s) => matches(s.path, path)).reduce((a, s) => a + s.delayMs, 0);
  }
}
