/**
 * Step 1 of a restore (docs/contract.md#restore): which saved copy of a guest
 * to bring back, read from the manifests of a node's tree on the NAS. The
 * newest is the saved copy with the latest run start, whatever its tier (a
 * generation kept past its tier's count is older than its name says); `--from`
 * names one generation. The archive must be on the NAS at the manifest's size.
 */
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import { MANIFEST_NAME, type Manifest, tryParseManifest } from '../ftp/manifest.js';
import type { RemoteFs } from '../ftp/remoteFs.js';
import { generationOrder, isGenerationName, TRANSFER } from '../ftp/rotation/names.js';
import { isArchiveOf } from '../orchestrator/archive.js';
import type { GuestType } from '../vocabulary.js';

/** The copy a restore brings back. */
export interface SavedCopy {
  /** The node tree it is in (`{dir}/{node}`). */
  node: string;
  generation: string;
  vmid: number;
  type: GuestType;
  name: string;
  /** When the run that saved it started (manifest `startedAt`). */
  savedAt: string;
  file: string;
  size: number;
  /** The node's sha256 from the manifest, when the hook sent one. */
  sha256?: string;
}

/** Why no copy could be chosen: exit 1 (something was found wrong / missing). */
export class NoCopyError extends Error {}

type Fs = Pick<RemoteFs, 'list' | 'readText'>;

async function readManifest(fs: Fs, dir: string): Promise<Manifest | undefined> {
  const text = await fs.readText(posix.join(dir, MANIFEST_NAME));
  if (text === undefined) return undefined;
  const parsed = tryParseManifest(text);
  return parsed.ok ? parsed.manifest : undefined;
}

/** The guest's saved archive in one generation's manifest, if any. */
function copyIn(
  m: Manifest,
  node: string,
  generation: string,
  vmid: number,
): SavedCopy | undefined {
  const g = m.guests.find((x) => x.vmid === vmid && x.status === 'saved');
  const f = g?.files.find((x) => isArchiveOf(x.name, vmid, g.type));
  if (!g || !f) return undefined;
  return {
    node,
    generation,
    vmid,
    type: g.type,
    name: g.name,
    savedAt: m.startedAt,
    file: f.name,
    size: f.size,
    ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
  };
}

/**
 * Finds `vmid`'s copy in `node`'s tree at `nodeDir`: the one in `from`, or the
 * newest saved one. Throws ConfigError for a bad `--from`, NoCopyError when
 * there is none or its archive is not on the NAS as the manifest lists it.
 */
export async function findSavedCopy(
  fs: Fs,
  o: { nodeDir: string; node: string; vmid: number; from?: string },
): Promise<SavedCopy> {
  const entries = (await fs.list(o.nodeDir)) ?? [];
  const dirs = entries.filter((e) => e.type === 'dir').map((e) => e.name);
  let candidates: string[];
  if (o.from !== undefined) {
    if (o.from !== TRANSFER && !isGenerationName(o.from)) {
      throw new ConfigError(
        `--from ${o.from}: expected a generation (daily.N, weekly.N, monthly.N or transfer)`,
      );
    }
    if (!dirs.includes(o.from)) {
      throw new NoCopyError(`node ${o.node} has no generation ${o.from} on the NAS`);
    }
    candidates = [o.from];
  } else {
    candidates = dirs.filter(isGenerationName);
  }
  let best: SavedCopy | undefined;
  for (const gen of candidates.sort((a, b) => generationOrder(a) - generationOrder(b))) {
    const m = await readManifest(fs, posix.join(o.nodeDir, gen));
    const copy = m && copyIn(m, o.node, gen, o.vmid);
    // Newest run first; on a tie the structurally younger generation (listed first) stays.
    if (copy && (!best || Date.parse(copy.savedAt) > Date.parse(best.savedAt))) best = copy;
  }
  if (!best) {
    throw new NoCopyError(
      o.from !== undefined
        ? `${o.from} of node ${o.node} holds no saved copy of guest ${o.vmid} (or its manifest is unreadable)`
        : `node ${o.node} has no saved copy of guest ${o.vmid} on the NAS`,
    );
  }
  const listing = (await fs.list(posix.join(o.nodeDir, best.generation))) ?? [];
  const there = listing.find((e) => e.name === best.file && e.type === 'file');
  if (!there) {
    throw new NoCopyError(
      `${best.generation}/${best.file} of node ${o.node} is in the manifest but not on the NAS`,
    );
  }
  if (there.size !== best.size) {
    throw new NoCopyError(
      `${best.generation}/${best.file} of node ${o.node} is ${there.size} bytes on the NAS, the manifest says ${best.size}`,
    );
  }
  return best;
}
