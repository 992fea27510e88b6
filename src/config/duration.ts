/**
 * Durations as the config and the command line write them: a whole number and
 * a unit, `90s`, `45m`, `26h`, `7d`. One parser for every duration setting
 * (`status.maxAge`, `lockLease`, `--max-age`, `--timeout`).
 */

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION_RE = /^(\d{1,9})(s|m|h|d)$/;

/** What a duration looks like, for error messages. */
export const DURATION_HINT = 'a duration like 90s, 45m, 26h or 7d';

/** Seconds of a duration text, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** `93600` → `26h` (the largest unit that divides it), for reports. */
export function formatDurationSetting(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
