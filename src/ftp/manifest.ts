/**
 * manifest.json: what one node run saved, stored inside its generation
 * (docs/contract.md#manifestjson). Written by the tool, read back by rotation
 * (to protect the newest good copy of each guest) and by `generations`.
 *
 * Reading is zod-validated: a manifest that does not parse is *unknown
 * content* to the caller (see {@link tryParseManifest}), never a crash,
 * because the NAS is shared storage that people and older versions touch.
 */
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { GUEST_TYPES } from '../vocabulary.js';

/** The file name of the manifest inside a generation directory. */
export const MANIFEST_NAME = 'manifest.json';

const ManifestFile = z.object({
  name: z.string().min(1),
  size: z.number().int().nonnegative(),
  /** The archive's sha256 as the node computed it (NAME.sha256), when the hook sent one. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

const ManifestGuest = z.object({
  vmid: z.number().int().positive(),
  type: z.enum(GUEST_TYPES),
  name: z.string(),
  status: z.enum(['saved', 'failed']),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
  files: z.array(ManifestFile),
  /** How long the guest's backup took (vzdump, upload, verification), for status charts. */
  durationMs: z.number().int().nonnegative().optional(),
});

/** Schema of manifest.json, version 1. */
export const Manifest = z.object({
  version: z.literal(1),
  runId: z.string().min(1),
  node: z.string(),
  cluster: z.string(),
  pveVersion: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  guests: z.array(ManifestGuest),
  /**
   * Set only on a generation adopted from a leftover `transfer/` that had no
   * manifest (a crashed run): its files were never verified by the tool.
   */
  incomplete: z.literal(true).optional(),
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestGuest = z.infer<typeof ManifestGuest>;

/** A manifest.json that is not valid JSON or not the version-1 shape. */
export class ManifestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ManifestError';
  }
}

/** Parse and validate manifest text; throws {@link ManifestError} naming the first problem. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ManifestError('manifest is not valid JSON', { cause });
  }
  const result = Manifest.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new ManifestError(`manifest is invalid at ${where}: ${issue?.message ?? 'unknown'}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** Like {@link parseManifest}, but a bad manifest is a value, not an exception. */
export function tryParseManifest(
  text: string,
): { ok: true; manifest: Manifest } | { ok: false; problem: string } {
  try {
    return { ok: true, manifest: parseManifest(text) };
  } catch (error) {
    return { ok: false, problem: errorMessage(error) };
  }
}

/** Stable, human-readable JSON (2-space indent, trailing newline). Validates first. */
export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(Manifest.parse(m), null, 2)}\n`;
}

/** The vmids this manifest saved (status "saved"). */
export function savedGuests(m: Manifest | undefined): Set<number> {
  return new Set((m?.guests ?? []).filter((g) => g.status === 'saved').map((g) => g.vmid));
}

/** vmid and type of a vzdump archive name (`vzdump-lxc-101-2026_11_30-02_00_05.tar.zst`). */
const ARCHIVE_NAME = /^vzdump-(lxc|openvz|qemu)-(\d{3,9})-/;

/**
 * The manifest written into a leftover `transfer/` that had none, when it is
 * adopted as its own generation: no guest is claimed saved (nothing there was
 * verified), but every guest whose archive is there is listed as `failed` with
 * its files, so retention keeps that generation until each of them has a newer
 * saved copy, and `incomplete` tells `generations` the files were never verified.
 */
export function incompleteManifest(o: {
  runId: string;
  node: string;
  at: string;
  /** The files found in the leftover transfer/. */
  files?: readonly { name: string; size: number }[];
}): Manifest {
  const guests = new Map<number, ManifestGuest>();
  for (const f of o.files ?? []) {
    const m = ARCHIVE_NAME.exec(f.name);
    if (!m) continue;
    const vmid = Number(m[2]);
    const guest = guests.get(vmid) ?? {
      vmid,
      type: m[1] as ManifestGuest['type'],
      name: '',
      status: 'failed' as const,
      error: 'not verified: left by an interrupted run',
      files: [],
    };
    guest.files.push({ name: f.name, size: f.size });
    guests.set(vmid, guest);
  }
  return {
    version: 1,
    runId: o.runId,
    node: o.node,
    cluster: '',
    pveVersion: '',
    startedAt: '',
    finishedAt: o.at,
    guests: [...guests.values()].sort((a, b) => a.vmid - b.vmid),
    incomplete: true,
  };
}

/** The vmids of every guest a manifest mentions, saved or not. */
export function mentionedGuests(m: Manifest | undefined): Set<number> {
  return new Set((m?.guests ?? []).map((g) => g.vmid));
}
