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
 *
 * A task expected to end at a known time (`expectedEndMs`, learned from the
 * node's earlier tasks by TaskEndHint) is polled at that time: a poll that
 * would fall in the tick before it waits for it, and so does one in the two
 * ticks before it that would leave no token for it. From then on the task is
 * treated as near its end for a short window. Short tasks have only about one
 * token per second to spend; spending one just before the end is what makes
 * the end seen a second late.
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
  /** When the task is expected to end (ms of waiting since its start), if known. */
  expectedEndMs?: number;
  /** How long after the expected end the tail pace is kept without the log's word (default 1 s). */
  expectedWindowMs?: number;
}

export class TaskPacer {
  readonly #rate: number;
  readonly #burst: number;
  readonly #tick: number;
  readonly #tailGap: number;
  readonly #earlyFor: number;
  readonly #expectedEnd: number | undefined;
  readonly #expectedWindow: number;
  #tokens: number;
  #elapsed = 0;

  constructor(o: TaskPacerOptions = {}) {
    this.#rate = (o.ratePerSecond ?? 0.95) / 1000;
    this.#burst = o.burst ?? 60;
    this.#tokens = o.initial ?? 1;
    this.#tick = o.tickMs ?? 1000;
    this.#tailGap = o.tailGapMs ?? 150;
    this.#earlyFor = o.earlyForMs ?? 5000;
    this.#expectedEnd = o.expectedEndMs;
    this.#expectedWindow = o.expectedWindowMs ?? 1000;
  }

  /** Waiting time since the task started (ms). */
  get elapsed(): number {
    return this.#elapsed;
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
    const e = this.#expectedEnd;
    if (e !== undefined && this.#elapsed >= e && this.#elapsed < e + this.#expectedWindow) {
      return 'tail';
    }
    return this.#elapsed < this.#earlyFor ? 'early' : 'middle';
  }

  /** How long to wait before the next request in `phase`. */
  nextDelay(phase: TaskPhase): number {
    const gap = phase === 'tail' ? this.#tailGap : phase === 'early' ? this.#tick : 2 * this.#tick;
    // Long enough for the bucket to hold a whole token again.
    const refill = this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#rate;
    let delay = Math.max(gap, refill);
    const toEnd = this.#expectedEnd === undefined ? 0 : this.#expectedEnd - this.#elapsed;
    if (phase !== 'tail' && toEnd > 0) {
      // Tokens at the expected end if a request is made after `delay`.
      const atEnd = Math.min(this.#burst, this.#tokens + toEnd * this.#rate) - 1;
      const close = delay >= toEnd - this.#tick;
      if (close || (delay >= toEnd - 2 * this.#tick && atEnd < 1)) delay = Math.max(toEnd, refill);
    }
    return Math.ceil(delay);
  }
}

/**
 * When the next task of a node will likely end, learned from its earlier ones:
 * the tasks of one node run one after another and, in a fleet of similar
 * guests, take similar times. The watcher reports each task's bracket: the
 * last request that saw it running and the one that saw it ended.
 * - Seen ended by the poll at the guess: the next guess is earlier, halfway
 *   back to when a task was last known to run, or by an eighth when that is
 *   not known (at least `stepMs`).
 * - Still running at the guess and seen ended within `narrowMs` after: the
 *   next guess is where it was seen ended.
 * - Far later than that (a stalled upload, a bigger guest): one `stepMs` later
 *   only; one slow task is no trend.
 * - No guess, a task over twice as long, or one that ended before the guess:
 *   learned from its own bracket (its end when narrow, else its middle).
 * A wrong guess costs one request at a less useful time, never more requests
 * than the bucket allows, and moves a poll by less than two ticks.
 */
export class TaskEndHint {
  #expected: number | undefined;
  /** A time the node's tasks were last seen still running. */
  #lo = 0;
  readonly #stepMs: number;
  readonly #narrowMs: number;

  constructor(o: { stepMs?: number; narrowMs?: number } = {}) {
    this.#stepMs = o.stepMs ?? 50;
    this.#narrowMs = o.narrowMs ?? 300;
  }

  /** The expected end of the next task (ms of waiting since its start), once one was seen. */
  expectedEndMs(): number | undefined {
    return this.#expected;
  }

  /**
   * A task ended: last seen running at `runningMs` (undefined: never), seen ended at
   * `endedMs`; `expectedMs` is the guess it was polled with.
   */
  observe(runningMs: number | undefined, endedMs: number, expectedMs: number | undefined): void {
    const running = runningMs ?? 0;
    const narrow = endedMs - running <= this.#narrowMs;
    if (expectedMs === undefined || endedMs > 2 * expectedMs || endedMs < expectedMs) {
      // No guess, or this task does not fit it at all: learn from its own bracket.
      this.#lo = narrow ? running : 0;
      this.#expected = narrow ? endedMs : (running + endedMs) / 2;
    } else if (running >= expectedMs) {
      if (narrow) {
        // Just missed: aim where it was seen ended; the hits that follow probe back down.
        this.#lo = running;
        this.#expected = endedMs;
      } else {
        // Far later (a stalled upload, a bigger guest): one step, no trend.
        this.#expected = expectedMs + this.#stepMs;
      }
    } else {
      // Ended by the guess: probe earlier. Halfway back to when a task was last seen
      // running, or an eighth when that is not known.
      const lo = Math.max(running, this.#lo < expectedMs ? this.#lo : 0);
      const back = lo > 0 ? (expectedMs - lo) / 2 : expectedMs / 8;
      let next = expectedMs - Math.max(this.#stepMs, back);
      if (next <= lo) {
        this.#lo = 0;
        next = expectedMs - this.#stepMs;
      }
      this.#expected = next;
    }
  }
}
