/**
 * The promotion rule of the retention tiers. A generation that falls past its
 * tier's count (daily → weekly, weekly → monthly) is promoted by rename into
 * the next tier's slot 0 only when the newest generation already there started
 * at least the next tier's spacing earlier, by the manifests' `startedAt`;
 * otherwise it is removed (or kept past the count when it holds the newest
 * good copy of some guest: plan.ts).
 */

/** A tier a generation can be promoted into. */
export type UpperTier = 'weekly' | 'monthly';

/** Minimum age gap between consecutive generations of a tier, in days. */
export const TIER_SPACING_DAYS: Readonly<Record<UpperTier, number>> = { weekly: 7, monthly: 28 };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a generation that started at `candidateStartedAt` is promoted into
 * `tier`, whose newest generation started at `newestInTier` (undefined: the
 * tier is empty, so the first candidate fills it).
 *
 * The gap is counted in whole days, rounded: a nightly run whose node started
 * a few minutes (or, behind other nodes, a few hours) earlier than last week's
 * still makes the weekly, so a nightly schedule yields one weekly generation
 * every 7 days instead of drifting to 8. Consecutive generations of a tier are
 * thus at least 7 (28) days apart give or take 12 hours.
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
  return Math.round((candidate - newest) / DAY_MS) >= TIER_SPACING_DAYS[tier];
}

/** Milliseconds since the epoch of an ISO time, undefined when absent or unreadable. */
export function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
