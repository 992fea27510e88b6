/**
 * The names rotation owns inside a node directory: `transfer`, the generation
 * tiers `daily.N`, `weekly.N`, `monthly.N`, the journal and trash names.
 * Everything else there (`.lock`, files an admin dropped, `daily.01`,
 * `yearly.0`, …) is foreign and left alone.
 */

/** Staging directory of the current run; the hook uploads into it. */
export const TRANSFER = 'transfer';
/** Rotation journal: present exactly while a rotation is in flight. */
export const JOURNAL = '.rotation.json';
/** Prefix of a generation renamed aside before it is deleted. */
export const TRASH_PREFIX = '.trash-';

/** The retention tiers, newest first: generations only ever move down this list. */
export const TIERS = ['daily', 'weekly', 'monthly'] as const;
export type Tier = (typeof TIERS)[number];

// Six digits is far beyond any sane count, and keeps Number() exact. No leading zeros,
// so `daily.01` is foreign (renaming it would clash with `daily.1`).
const GENERATION = /^(daily|weekly|monthly)\.(0|[1-9]\d{0,5})$/;

/** A generation name parsed: its tier and index (0 = newest of the tier). */
export interface GenerationId {
  tier: Tier;
  index: number;
}

/** Tier and index of `daily.N` / `weekly.N` / `monthly.N`; undefined for any other name. */
export function parseGeneration(name: string): GenerationId | undefined {
  const m = GENERATION.exec(name);
  return m ? { tier: m[1] as Tier, index: Number(m[2]) } : undefined;
}

/** Whether `name` is a generation directory name of any tier. */
export function isGenerationName(name: string): boolean {
  return GENERATION.test(name);
}

/** Index of a `daily.N` name, or undefined for any other name (including `weekly.0`, `daily.01`). */
export function generationIndex(name: string): number | undefined {
  const id = parseGeneration(name);
  return id?.tier === 'daily' ? id.index : undefined;
}

/** `daily.N` (one argument), or `weekly.N` / `monthly.N`. */
export function generationName(index: number): string;
export function generationName(tier: Tier, index: number): string;
export function generationName(a: number | Tier, b?: number): string {
  const [tier, index] = typeof a === 'number' ? ['daily', a] : [a, b ?? Number.NaN];
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`generation index must be an integer >= 0, got ${index}`);
  }
  return `${tier}.${index}`;
}

/**
 * Sort key putting generations in structural age order: `transfer` first, then
 * daily, weekly, monthly, each by index. Within a tier that is age order; across
 * tiers it is age order too except for generations kept past their tier's count
 * (see plan.ts), which is why the planner never relies on it across tiers.
 */
export function generationOrder(name: string): number {
  if (name === TRANSFER) return -1;
  const id = parseGeneration(name);
  return id ? TIERS.indexOf(id.tier) * 1e7 + id.index : Number.MAX_SAFE_INTEGER;
}

/** Whether a name is one of our trash names. */
export function isTrashName(name: string): boolean {
  return name.startsWith(TRASH_PREFIX);
}

/**
 * A trash name for `generation`, unique among `taken`. The run id makes it
 * recognisable in a listing; characters a server could mangle are replaced.
 */
export function trashName(generation: string, runId: string, taken: ReadonlySet<string>): string {
  const safeRun = runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const base = `${TRASH_PREFIX}${generation}-${safeRun}`;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  return name;
}
