/**
 * The names rotation owns inside a node directory. Everything else there
 * (`.lock`, files an admin dropped, `daily.01`, …) is foreign and left alone.
 */

/** Staging directory of the current run; the hook uploads into it. */
export const TRANSFER = 'transfer';
/** Rotation journal: present exactly while a rotation is in flight. */
export const JOURNAL = '.rotation.json';
/** Prefix of a generation renamed aside before it is deleted. */
export const TRASH_PREFIX = '.trash-';

// Six digits is far beyond any sane `keep`, and keeps Number() exact.
const GENERATION = /^daily\.(0|[1-9]\d{0,5})$/;

/** Index of a `daily.N` name, or undefined for any other name (including `daily.01`). */
export function generationIndex(name: string): number | undefined {
  const m = GENERATION.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** `daily.N`. */
export function generationName(index: number): string {
  return `daily.${index}`;
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
