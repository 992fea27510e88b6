/**
 * Durations in the configuration (`status.maxAge: 26h`): a whole number and
 * one unit, or several pairs written together (`1d2h`, `90m`). Parsed to
 * whole seconds; anything else is refused with the accepted form in the message.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION_RE = /^(?:\d+[smhdw])+$/;
const PART_RE = /(\d+)([smhdw])/g;

/** What the config's error message says a duration looks like. */
export const DURATION_FORMAT = 'a duration like 26h, 90m, 1d12h (units s, m, h, d, w)';

/** `26h` → 93600; `1d2h` → 93600; undefined when `text` is not a duration or is zero. */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART_RE)) {
    total += Number(amount) * (UNIT_SECONDS[unit ?? ''] ?? 0);
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** Like {@link parseDurationSeconds}, in milliseconds (timers and leases). */
export function parseDurationMs(text: string): number | undefined {
  const seconds = parseDurationSeconds(text);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** `600000` → `10m` (the largest unit that divides it), for messages and reports. */
export function formatDurationSetting(ms: number): string {
  const seconds = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
