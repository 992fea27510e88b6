/**
 * Retention tiers (issue #12), the pure parts: the `weekly.N` / `monthly.N`
 * names and the promotion rule. A generation leaving the last daily (weekly)
 * slot is promoted by rename into `weekly.0` (`monthly.0`) only when the newest
 * generation already in that tier started at least the tier's spacing earlier,
 * by the manifests' `startedAt`; otherwise it is removed as today.
 *
 * Not wired into the planner yet: planRotation still knows only `daily.N`.
 */

/** The tiers beyond daily, oldest last. */
export type UpperTier = 'weekly' | 'monthly';

/** Minimum age gap between consecutive generations of a tier, in days. */
export const TIER_SPACING_DAYS: Readonly<Record<UpperTier, number>> = { weekly: 7, monthly: 28 };

const DAY_MS = 24 * 60 * 60 * 1000;

// Same bounds as daily.N in names.ts: no leading zeros, six digits at most.
const TIER_NAME = /^(weekly|monthly)\.(0|[1-9]\d{0,5})$/;

/** Tier and index of a `weekly.N` / `monthly.N` name; undefined for any other name. */
export function parseTierName(name: string): { tier: UpperTier; index: number } | undefined {
  const m = TIER_NAME.exec(name);
  return m ? { tier: m[1] as UpperTier, index: Number(m[2]) } : undefined;
}

/** `weekly.N` / `monthly.N`. */
export function tierName(tier: UpperTier, index: number): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`generation index must be an integer >= 0, got ${index}`);
  }
  return `${tier}.${index}`;
}

/**
 * Whether a generation that started at `candidateStartedAt` is promoted into
 * `tier`, whose newest generation started at `newestInTier` (undefined: the
 * tier is empty, so the first candidate fills it).
 *
 * A clock stepped backwards makes the candidate look older than the tier's
 * newest: the gap is negative and it is not promoted, so the spacing rule holds
 * whatever the clock did. An unreadable time (a missing or adopted manifest)
 * never promotes: the spacing could not be proven.
 */
export function shouldPromote(
  tier: UpperTier,
  candidateStartedAt: string | undefined,
  newestInTier: string | undefined,
): boolean {
  const candidate = parseTime(candidateStartedAt);
  if (candidate === undefined) return false;
  if (newestInTier === undefined) return true;
  const newest = parseTime(newestInTier);
  // The tier's newest has no readable time: promoting could break the spacing, so do not.
  if (newest === undefined) return false;
  return candidate - newest >= TIER_SPACING_DAYS[tier] * DAY_MS;
}

function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
