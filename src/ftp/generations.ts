/**
 * What is on the NAS for one node: the `generations` command and `--dry-run`
 * read this. Read-only: a listing of the node directory, then per generation
 * a listing and its manifest.
 */
import { posix } from 'node:path';
import { MANIFEST_NAME, tryParseManifest } from './manifest.js';
import type { RemoteFs } from './remoteFs.js';
import {
  generationOrder,
  isGenerationName,
  parseGeneration,
  type Tier,
  TRANSFER,
} from './rotation/names.js';

/** One guest as a generation's manifest records it. */
export interface GenerationGuest {
  vmid: number;
  type: string;
  name: string;
  status: 'saved' | 'failed';
  error?: string;
  durationMs?: number;
  /** Whether the manifest records a node-side sha256 for one of its files. */
  sha256?: boolean;
}

/** One generation (or a leftover/pending `transfer/`). */
export interface GenerationInfo {
  /** `daily.N`, `weekly.N`, `monthly.N` or `transfer`. */
  name: string;
  /** The tier; undefined for `transfer`. */
  tier?: Tier;
  /** N of the name; undefined for `transfer`. */
  index?: number;
  /** Summary of manifest.json; undefined when it is missing or unreadable. */
  manifest?: {
    runId: string;
    node: string;
    cluster: string;
    startedAt: string;
    finishedAt: string;
    guests: GenerationGuest[];
  };
  /** Why the manifest could not be used ("missing", or the validation problem). */
  manifestProblem?: string;
  /** No trustworthy manifest, or one marked incomplete (adopted from a killed run). */
  incomplete: boolean;
  /** Files in the generation (manifest.json excluded), sorted by name. */
  files: { name: string; size: number }[];
  /** Sum of the file sizes, manifest excluded. */
  totalSize: number;
}

/**
 * The generations of a node: `transfer/` first when present (it would become
 * `daily.0`), then daily, weekly and monthly, each newest first. An absent node directory gives an empty list.
 */
export async function listGenerations(
  fs: Pick<RemoteFs, 'list' | 'readText'>,
  nodeDir: string,
): Promise<GenerationInfo[]> {
  const entries = (await fs.list(nodeDir)) ?? [];
  const names = entries
    .filter((e) => e.type === 'dir' && (e.name === TRANSFER || isGenerationName(e.name)))
    .map((e) => e.name)
    .sort((a, b) => generationOrder(a) - generationOrder(b));
  const result: GenerationInfo[] = [];
  for (const name of names) result.push(await describe(fs, posix.join(nodeDir, name), name));
  return result;
}

async function describe(
  fs: Pick<RemoteFs, 'list' | 'readText'>,
  dir: string,
  name: string,
): Promise<GenerationInfo> {
  const listing = (await fs.list(dir)) ?? [];
  const files = listing
    .filter((e) => e.type === 'file' && e.name !== MANIFEST_NAME)
    .map((e) => ({ name: e.name, size: e.size }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const info: GenerationInfo = {
    name,
    incomplete: true,
    files,
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
  };
  const id = parseGeneration(name);
  if (id !== undefined) {
    info.tier = id.tier;
    info.index = id.index;
  }
  const text = listing.some((e) => e.name === MANIFEST_NAME)
    ? await fs.readText(posix.join(dir, MANIFEST_NAME))
    : undefined;
  if (text === undefined) {
    info.manifestProblem = 'missing';
    return info;
  }
  const parsed = tryParseManifest(text);
  if (!parsed.ok) {
    info.manifestProblem = parsed.problem;
    return info;
  }
  const m = parsed.manifest;
  info.incomplete = m.incomplete === true;
  info.manifest = {
    runId: m.runId,
    node: m.node,
    cluster: m.cluster,
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    guests: m.guests.map((g) => ({
      vmid: g.vmid,
      type: g.type,
      name: g.name,
      status: g.status,
      ...(g.error === undefined ? {} : { error: g.error }),
      ...(g.durationMs === undefined ? {} : { durationMs: g.durationMs }),
      ...(g.files.some((f) => f.sha256 !== undefined) ? { sha256: true } : {}),
    })),
  };
  return info;
}
