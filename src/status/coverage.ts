/**
 * Coverage: which guests have a fresh saved copy on the NAS. Pure: the
 * clusters' guests (inventory) and the node trees' generations (manifests)
 * in, one row per guest out, with a verdict:
 * - `ok`: selected (run would back it up) and its newest saved copy is younger than maxAge;
 * - `stale`: selected, newest saved copy older than maxAge;
 * - `missing`: selected, no saved copy at all;
 * - `gone`: copies on the NAS, but the guest is no longer in its (readable) cluster;
 *   a guest of a cluster that could not be read keeps `ok`/`stale` by age, state `unknown`;
 * - `unselected`: a guest run would not back up (state, type, exclude).
 * Templates are left out (vzdump has nothing new to save of them).
 */
import type { Config, GuestStateFilter } from '../config/index.js';
import type { GenerationInfo } from '../ftp/generations.js';
import type { ClusterInventory } from '../orchestrator/plan.js';
import type { PveGuest } from '../pveApi/index.js';
import type { GuestType } from '../vocabulary.js';

export const VERDICTS = ['ok', 'stale', 'missing', 'gone', 'unselected'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One saved copy of a guest: a generation whose manifest records it as saved. */
export interface SavedCopy {
  node: string;
  generation: string;
  /** When that run finished (manifest `finishedAt`), ISO. */
  time: string;
  /** Archive bytes (the largest listed file: the archive, not its .log). */
  size: number;
  hasSha256: boolean;
  durationSeconds?: number;
}

export interface CoverageRow {
  cluster: string;
  node: string;
  vmid: number;
  name: string;
  type: GuestType | string;
  /** Guest state now (`running`, `stopped`…), or `absent` for a `gone` guest. */
  state: string;
  verdict: Verdict;
  /** For `unselected`: why run would not back it up. */
  reason?: string;
  newest: (SavedCopy & { ageSeconds: number }) | null;
  /** Number of saved copies on the NAS. */
  copies: number;
  /** Every saved copy, newest first (sizes and durations over the generations). */
  history: SavedCopy[];
}

export interface NodeTree {
  node: string;
  generations: GenerationInfo[];
}

export interface CoverageInput {
  config: Pick<Config, 'clusters' | 'backup'>;
  inventory: ClusterInventory[];
  /** Clusters whose inventory could not be read: their guests cannot be called gone. */
  unreadClusters: string[];
  trees: NodeTree[];
  filters: { nodes: string[]; vmids: number[]; guests?: GuestStateFilter };
  now: Date;
  maxAgeSeconds: number;
}

/** Why `run` would not select this guest, or undefined when it would. */
function unselectedReason(
  g: Pick<PveGuest, 'type' | 'status' | 'vmid'>,
  backup: Config['backup'],
  state: GuestStateFilter,
): string | undefined {
  if (!backup.types.includes(g.type)) return `type ${g.type} not in backup.types`;
  if (backup.exclude.includes(g.vmid)) return 'excluded (backup.exclude)';
  const running = g.status === 'running';
  if (state === 'running' && !running) return `${g.status}; only running guests are selected`;
  if (state === 'stopped' && running) return 'running; only stopped guests are selected';
  return undefined;
}

/** Saved copies per cluster/vmid, newest first. */
function savedCopies(trees: NodeTree[], clusterOfNode: Map<string, string>) {
  const copies = new Map<string, SavedCopy[]>();
  const names = new Map<string, { name: string; type: string; node: string }>();
  for (const tree of trees) {
    for (const gen of tree.generations) {
      const m = gen.manifest;
      if (!m) continue;
      const cluster = m.cluster || clusterOfNode.get(tree.node) || '';
      for (const g of m.guests) {
        if (g.status !== 'saved') continue;
        const key = `${cluster}/${g.vmid}`;
        const files = gen.files.filter((f) => f.name.includes(`-${g.vmid}-`));
        const archive = files
          .filter((f) => !f.name.endsWith('.log') && !f.name.endsWith('.sha256'))
          .sort((a, b) => b.size - a.size)[0];
        const copy: SavedCopy = {
          node: tree.node,
          generation: gen.name,
          time: m.finishedAt,
          size: archive?.size ?? 0,
          hasSha256: files.some((f) => f.name.endsWith('.sha256')) || g.sha256 === true,
          ...(g.durationMs !== undefined ? { durationSeconds: g.durationMs / 1000 } : {}),
        };
        copies.set(key, [...(copies.get(key) ?? []), copy]);
        if (!names.has(key)) names.set(key, { name: g.name, type: g.type, node: tree.node });
      }
    }
  }
  for (const list of copies.values())
    list.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  return { copies, names };
}

export function coverage(input: CoverageInput): CoverageRow[] {
  const { config, filters } = input;
  const state = filters.guests ?? config.backup.guests;
  const clusterOfNode = new Map<string, string>();
  for (const inv of input.inventory)
    for (const n of inv.nodes) clusterOfNode.set(n.node, inv.cluster);
  const { copies, names } = savedCopies(input.trees, clusterOfNode);
  const wanted = (node: string, vmid: number) =>
    (filters.nodes.length === 0 || filters.nodes.includes(node)) &&
    (filters.vmids.length === 0 || filters.vmids.includes(vmid));
  const row = (
    base: Omit<CoverageRow, 'newest' | 'copies' | 'history' | 'verdict'>,
    list: SavedCopy[],
    selected: boolean,
    present: boolean,
  ): CoverageRow => {
    const newest = list[0];
    const ageSeconds = newest
      ? Math.max(0, Math.round((input.now.getTime() - Date.parse(newest.time)) / 1000))
      : 0;
    const verdict: Verdict = !present
      ? 'gone'
      : !selected
        ? 'unselected'
        : !newest
          ? 'missing'
          : ageSeconds > input.maxAgeSeconds
            ? 'stale'
            : 'ok';
    return {
      ...base,
      verdict,
      newest: newest ? { ...newest, ageSeconds } : null,
      copies: list.length,
      history: list,
    };
  };

  const rows: CoverageRow[] = [];
  const seen = new Set<string>();
  for (const inv of input.inventory) {
    const allowed = config.clusters.find((c) => c.name === inv.cluster)?.nodes;
    for (const n of inv.nodes) {
      if (allowed && !allowed.includes(n.node)) continue;
      for (const g of n.guests) {
        if (g.template) continue;
        const key = `${inv.cluster}/${g.vmid}`;
        seen.add(key);
        if (!wanted(n.node, g.vmid)) continue;
        const reason = unselectedReason(g, config.backup, state);
        rows.push(
          row(
            {
              cluster: inv.cluster,
              node: n.node,
              vmid: g.vmid,
              name: g.name ?? '',
              type: g.type,
              state: g.status,
              ...(reason ? { reason } : {}),
            },
            copies.get(key) ?? [],
            reason === undefined,
            true,
          ),
        );
      }
    }
  }
  // Copies of guests the clusters no longer have (a cluster that could not be read proves nothing).
  for (const [key, list] of copies) {
    if (seen.has(key)) continue;
    const [cluster = '', vmidText = ''] = key.split('/');
    if (cluster === '') continue;
    const info = names.get(key);
    const node = info?.node ?? list[0]?.node ?? '';
    const vmid = Number(vmidText);
    if (!wanted(node, vmid)) continue;
    // A cluster that could not be read proves nothing: its guests' copies are judged by age
    // alone (state unknown), never called gone.
    const unread = input.unreadClusters.includes(cluster);
    rows.push(
      row(
        {
          cluster,
          node,
          vmid,
          name: info?.name ?? '',
          type: info?.type ?? '',
          state: unread ? 'unknown' : 'absent',
        },
        list,
        unread,
        unread,
      ),
    );
  }
  return rows.sort(
    (a, b) => a.cluster.localeCompare(b.cluster) || a.node.localeCompare(b.node) || a.vmid - b.vmid,
  );
}

/** Selected guests without a fresh copy: the rows that make `status` exit 1. */
export function uncovered(rows: CoverageRow[]): CoverageRow[] {
  return rows.filter((r) => r.verdict === 'stale' || r.verdict === 'missing');
}
