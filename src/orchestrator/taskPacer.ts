/**
 * When the task watcher makes its next request. A token bucket keeps the
 * average at or below `ratePerSecond` over a task's life (one token per
 * request, refilled continuously, at most `burst` saved up), while the gap
 * between requests depends on the phase of the task:
 * - early (the first `earlyForMs`): one tick, to catch the tasks that fail at once;
 * - middle: two ticks, which saves tokens;
 * - tail (the log says the archive is written: the hook is uploading, the end is
 *   near): `tailGapMs`, spending what the middle saved, so the end is seen within
 *   a fraction of a second instead of up to a tick later.
 * Time is what the watcher slept (request latency not counted), which only
 * makes the bucket stricter.
 */

export type TaskPhase = 'early' | 'middle' | 'tail';

export interface TaskPacerOptions {
  /** Average requests per second the bucket allows (default 0.95: with the first poll's token, a
   *  task of 10 s or more stays at or below one request per second). */
  ratePerSecond?: number;
  /** Tokens that can be saved up (default 60: 9 s of fast polling in the tail, saved in 2 min). */
  burst?: number;
  /** Tokens at the start (default 1: the first poll). */
  initial?: number;
  /** One tick: the gap early on (default 1000 ms); the middle uses two. */
  tickMs?: number;
  /** Gap in the tail (default 150 ms). */
  tailGapMs?: number;
  /** How long a task counts as early (default 5 s). */
  earlyForMs?: number;
}

export class TaskPacer {
  readonly #rate: number;
  readonly #burst: number;
  readonly #tick: number;
  readonly #tailGap: number;
  readonly #earlyFor: number;
  #tokens: number;
  #elapsed = 0;

  constructor(o: TaskPacerOptions = {}) {
    this.#rate = (o.ratePerSecond ?? 0.95) / 1000;
    this.#burst = o.burst ?? 60;
    this.#tokens = o.initial ?? 1;
    this.#tick = o.tickMs ?? 1000;
    this.#tailGap = o.tailGapMs ?? 150;
    this.#earlyFor = o.earlyForMs ?? 5000;
  }

  /** Time passed without a request (the watcher slept `ms`). */
  waited(ms: number): void {
    this.#elapsed += ms;
    this.#tokens = Math.min(this.#burst, this.#tokens + ms * this.#rate);
  }

  /** A request is being made now. */
  spend(): void {
    this.#tokens -= 1;
  }

  phase(nearEnd: boolean): TaskPhase {
    if (nearEnd) return 'tail';
    return this.#elapsed < this.#earlyFor ? 'early' : 'middle';
  }

  /** How long to wait before the next request in `phase`. */
  nextDelay(phase: TaskPhase): number {
    const gap = phase === 'tail' ? this.#tailGap : phase === 'early' ? this.#tick : 2 * this.#tick;
    // Long enough for the bucket to hold a whole token again.
    const refill = this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#rate;
    return Math.ceil(Math.max(gap, refill));
  }
}
