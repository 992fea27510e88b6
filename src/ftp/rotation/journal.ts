/**
 * The rotation journal, `{nodeDir}/.rotation.json`: written completely before
 * the first rename, removed after the last one. While it exists, the next run
 * replays it (exec.ts) instead of planning afresh, so a rotation killed
 * after any step is finished exactly as planned.
 *
 * It holds names relative to the node directory only (no absolute paths, no
 * secrets), so a NAS moved to another mount point still heals.
 */
import { z } from 'zod';

const Step = z.object({ from: z.string().min(1), to: z.string().min(1) });

/** Schema of the journal file, version 1. */
export const RotationJournal = z.object({
  version: z.literal(1),
  runId: z.string().min(1),
  createdAt: z.string(),
  renames: z.array(Step),
  trash: z.array(z.string().min(1)),
});
export type RotationJournal = z.infer<typeof RotationJournal>;

/** Serialise a journal (validated, so a bug cannot write one that replay rejects). */
export function serializeJournal(j: RotationJournal): string {
  return `${JSON.stringify(RotationJournal.parse(j), null, 2)}\n`;
}

/**
 * Parse journal text. A journal that does not parse can only come from a write
 * cut short, and the write comes before the first rename: nothing was moved,
 * so the caller may drop it and repair from the listing.
 */
export function parseJournal(text: string): RotationJournal | undefined {
  try {
    const r = RotationJournal.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
