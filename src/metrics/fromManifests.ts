/**
 * What the NAS manifests say about each guest, for the metrics of guests a
 * run did not touch (a `--vmid` run must not wipe the others) and for the
 * last success of a guest that failed tonight (its newest saved copy). Pure.
 */
import type { GenerationInfo } from '../ftp/generations.js';

/** One guest as the manifests of its node trees describe it. */
export interface GuestFromManifests {
  cluster: string;
  node: string;
  vmid: number;
  type: string;
  name: string;
  /** Whether the newest manifest that mentions the guest records it saved. */
  lastRunSaved: boolean;
  /** Its newest saved copy: when that run finished (ISO), archive bytes, how long it took. */
  newestSaved?: { time: string; archiveBytes: number; durationSeconds?: number };
}

/** A node tree as read from the NAS (the status reader's NodeTree plus its cluster fits). */
export interface ManifestTree {
  cluster: string;
  node: string;
  generations: Pick<GenerationInfo, 'manifest' | 'files'>[];
}

/** The archive of `vmid` in a generation: its largest file that is not the .log or the .sha256. */
function archiveBytes(files: { name: string; size: number }[], vmid: number): number {
  const sizes = files
    .filter((f) => f.name.includes(`-${vmid}-`))
    .filter((f) => !f.name.endsWith('.log') && !f.name.endsWith('.sha256'))
    .map((f) => f.size);
  return sizes.length > 0 ? Math.max(...sizes) : 0;
}

/**
 * One entry per cluster and vmid (a vmid is unique in its cluster; a guest
 * that moved is reported on the node of its newest manifest).
 */
export function guestsFromManifests(trees: readonly ManifestTree[]): GuestFromManifests[] {
  const seen: { time: string; tree: ManifestTree; gen: ManifestTree['generations'][number] }[] = [];
  for (const tree of trees)
    for (const gen of tree.generations)
      if (gen.manifest) seen.push({ time: gen.manifest.finishedAt, tree, gen });
  // Newest first: the first mention of a guest is its last run, the first "saved" its newest copy.
  seen.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));

  const out = new Map<string, GuestFromManifests>();
  for (const { tree, gen } of seen) {
    const m = gen.manifest!;
    for (const g of m.guests) {
      const key = `${tree.cluster}\0${g.vmid}`;
      let entry = out.get(key);
      if (!entry) {
        entry = {
          cluster: tree.cluster,
          node: tree.node,
          vmid: g.vmid,
          type: g.type,
          name: g.name,
          lastRunSaved: g.status === 'saved',
        };
        out.set(key, entry);
      }
      if (entry.newestSaved === undefined && g.status === 'saved') {
        entry.newestSaved = {
          time: m.finishedAt,
          archiveBytes: archiveBytes(gen.files, g.vmid),
          ...(g.durationMs !== undefined ? { durationSeconds: g.durationMs / 1000 } : {}),
        };
      }
    }
  }
  return [...out.values()];
}
