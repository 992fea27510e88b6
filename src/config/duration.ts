/**
 * Durations as the config and the command line write them (DESIGN.md):
 * a whole number and one unit, `90s`, `45m`, `26h`, `7d`.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d{1,9})([smhd])$/;

/** Milliseconds of `text`, or `undefined` when it is not a duration like `90s`, `45m`, `26h`, `7d`. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `600000` → `10m`: the largest unit that divides it (for messages and defaults). */
export function formatDurationSetting(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms % UNIT_MS[unit] === 0 && ms >= UNIT_MS[unit]) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
