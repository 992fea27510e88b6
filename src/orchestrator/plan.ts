/**
 * Selection: configuration + inventory + command-line filters → per node the
 * guests to back up, and why the others are not. Pure; every mistake in the
 * filters is a ConfigError (exit 2) raised before anything starts.
 *
 * Decisions (docs/contract.md#commands leaves them open):
 * - An explicit `--vmid` is backed up whatever its state, even if it is in
 *   `backup.exclude` (the command line is the more specific wish) and even if
 *   it is a template (vzdump backs templates up; the default selection skips
 *   them only because they do not change). Its type must still be one of
 *   `backup.types`, since the inventory lists only those.
 * - With `--vmid`, only the nodes holding a named guest are planned, and the
 *   other guests of those nodes are not listed as skipped (they were not asked
 *   about). Without it, every selected node is planned, even with no guest.
 * - While a configured cluster is missing from the inventory (unreachable, auth
 *   failed: the caller reports it, exit 3), an unknown `--node`/`--vmid` is not
 *   an error: it may be on that cluster. It is simply not planned.
 * - An offline node is planned with `online: false` (its guests, if the
 *   inventory knows them, are listed) so the report can name it.
 */
import type { Config, GuestStateFilter } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { GuestType, PveGuest } from '../pveApi/index.js';
import { checkVersionSupport } from './planRules.js';

export interface ClusterInventory {
  cluster: string;
  pveVersion: string;
  pveMajor: number;
  nodes: {
    node: string;
    online: boolean;
    guests: PveGuest[];
    /** Rows PVE could not have sent (vmid out of range): reported as skipped, never backed up. */
    rejected?: SkippedGuest[];
  }[];
}

export interface PlannedGuest {
  vmid: number;
  type: GuestType;
  name?: string;
  status: string;
  /** Named by `--vmid`. */
  explicit: boolean;
  /** Config lock seen at planning (e.g. `backup`): vzdump will likely fail on it. */
  lock?: string;
}

export interface SkippedGuest {
  vmid: number;
  type: GuestType;
  name?: string;
  reason: string;
}

export interface NodePlan {
  cluster: string;
  node: string;
  online: boolean;
  pveVersion: string;
  /** Sorted by vmid. */
  guests: PlannedGuest[];
  /** Sorted by vmid. */
  skipped: SkippedGuest[];
}

export interface PlanFilters {
  nodes: string[];
  vmids: number[];
  /** `--guests`; default `backup.guests`. */
  guests?: GuestStateFilter;
}

/** Why a guest is not selected by default, or undefined when it is. */
function skipReason(g: PveGuest, config: Config, state: GuestStateFilter): string | undefined {
  if (!config.backup.types.includes(g.type)) {
    return `type ${g.type} not in backup.types`;
  }
  if (g.template) return 'template';
  if (config.backup.exclude.includes(g.vmid)) return 'excluded (backup.exclude)';
  // OpenVZ `mounted` means the private area is mounted, not that the CT runs.
  const running = g.status === 'running';
  if (state === 'running' && !running) return `${g.status}; only running guests are selected`;
  if (state === 'stopped' && running) return 'running; only stopped guests are selected';
  return undefined;
}

const where = (c: string, n: string) => `node ${n} (cluster ${c})`;

/** A node the run may touch, with the inventory of its cluster. */
interface Candidate {
  inv: ClusterInventory;
  n: ClusterInventory['nodes'][number];
}

/** What the filter checks need to know about the candidates. */
interface Candidates {
  /** The inventory's clusters in config order. */
  clusters: ClusterInventory[];
  list: Candidate[];
  /** `cluster/node, …` for messages. */
  known: string;
  /**
   * A configured cluster missing from the inventory could not be read (its failure is
   * reported, exit 3); a --node or --vmid not found may live there, so it is not a usage error.
   */
  unread: boolean;
}

/**
 * Plans a run. Nodes come in config cluster order, then by name.
 * @throws ConfigError for an unknown `--node`/`--vmid`, a `--vmid` on another
 *   node than the `--node` given, or a setting a cluster's PVE version cannot do.
 */
export function planRun(
  config: Config,
  inventory: ClusterInventory[],
  filters: PlanFilters,
): NodePlan[] {
  const state = filters.guests ?? config.backup.guests;
  const candidates = candidateNodes(config, inventory);
  refuseSharedNodeNames(config, candidates.list);
  checkNodeFilter(candidates, filters.nodes);
  const nodeSelected = (node: string) => filters.nodes.length === 0 || filters.nodes.includes(node);
  const explicit = new Set(filters.vmids);
  checkVmidFilter(config, candidates, explicit, nodeSelected, filters.nodes);

  const plans: NodePlan[] = [];
  const checked = new Set<string>();
  for (const { inv, n } of candidates.list) {
    if (!nodeSelected(n.node)) continue;
    const { guests, skipped } = selectGuests(config, inv.cluster, n, explicit, state);
    if (explicit.size > 0 && guests.length === 0) continue;
    if (!checked.has(inv.cluster)) {
      checkVersionSupport(config, inv);
      checked.add(inv.cluster);
    }
    plans.push({
      cluster: inv.cluster,
      node: n.node,
      online: n.online,
      pveVersion: inv.pveVersion,
      guests,
      skipped,
    });
  }
  return plans;
}

/** Every node the run may touch (the cluster's `nodes` restricts), clusters in config order. */
function candidateNodes(config: Config, inventory: ClusterInventory[]): Candidates {
  const order = new Map(config.clusters.map((c, i) => [c.name, i]));
  const clusters = [...inventory].sort(
    (a, b) => (order.get(a.cluster) ?? 1e9) - (order.get(b.cluster) ?? 1e9),
  );
  const list = clusters.flatMap((inv) => {
    const allowed = config.clusters.find((c) => c.name === inv.cluster)?.nodes;
    return [...inv.nodes]
      .filter((n) => !allowed || allowed.includes(n.node))
      .sort((a, b) => a.node.localeCompare(b.node))
      .map((n) => ({ inv, n }));
  });
  return {
    clusters,
    list,
    known: list.map(({ inv, n }) => `${inv.cluster}/${n.node}`).join(', ') || 'none',
    unread: config.clusters.some((c) => !inventory.some((i) => i.cluster === c.name)),
  };
}

/**
 * The NAS tree is {ftp.dir}/{node}: two clusters with a node of the same name (single-node
 * installs are often all called "pve") would share one tree, one lock and mix their generations.
 */
function refuseSharedNodeNames(config: Config, candidates: Candidate[]): void {
  const clustersOf = new Map<string, string[]>();
  for (const { inv, n } of candidates) {
    clustersOf.set(n.node, [...(clustersOf.get(n.node) ?? []), inv.cluster]);
  }
  for (const [node, owners] of clustersOf) {
    if (owners.length > 1) {
      throw new ConfigError(
        `node name ${node} exists in clusters ${owners.join(' and ')}: both would share the NAS tree ${config.ftp.dir}/${node}; restrict one cluster with clusters[].nodes, or back them up with separate configs whose ftp.dir differ`,
      );
    }
  }
}

/** Each `--node` must be a candidate (or possibly on a cluster that could not be read). */
function checkNodeFilter(candidates: Candidates, nodes: string[]): void {
  for (const name of new Set(nodes)) {
    if (candidates.unread || candidates.list.some(({ n }) => n.node === name)) continue;
    const elsewhere = candidates.clusters.find((inv) => inv.nodes.some((n) => n.node === name));
    throw new ConfigError(
      elsewhere
        ? `--node ${name}: not among the nodes configured for cluster ${elsewhere.cluster} (clusters[].nodes)`
        : `--node ${name}: no such node in the clusters that answered (nodes: ${candidates.known})`,
    );
  }
}

/** Each `--vmid` must exist, and on a selected node. */
function checkVmidFilter(
  config: Config,
  candidates: Candidates,
  explicit: Set<number>,
  nodeSelected: (node: string) => boolean,
  nodes: string[],
): void {
  for (const vmid of explicit) {
    const homes = candidates.list.filter(({ n }) => n.guests.some((g) => g.vmid === vmid));
    if (homes.length === 0) {
      if (candidates.unread) continue;
      const offline = candidates.list
        .filter(({ n }) => !n.online)
        .map(({ inv, n }) => `${inv.cluster}/${n.node}`);
      throw new ConfigError(
        `--vmid ${vmid}: no such guest of types ${config.backup.types.join(', ')} on the nodes that answered (${candidates.known})${
          offline.length > 0 ? `; offline, not searched: ${offline.join(', ')}` : ''
        }`,
      );
    }
    if (!homes.some(({ n }) => nodeSelected(n.node))) {
      const at = homes.map(({ inv, n }) => where(inv.cluster, n.node)).join(' and ');
      throw new ConfigError(`--vmid ${vmid} is on ${at}, not on --node ${nodes.join(', ')}`);
    }
  }
}

/**
 * One node's guests: with `--vmid`, only the named ones (others are not listed as skipped:
 * they were not asked about); otherwise the default selection and why the rest are skipped.
 */
function selectGuests(
  config: Config,
  cluster: string,
  n: Candidate['n'],
  explicit: Set<number>,
  state: GuestStateFilter,
): { guests: PlannedGuest[]; skipped: SkippedGuest[] } {
  const guests: PlannedGuest[] = [];
  const skipped: SkippedGuest[] = [];
  for (const g of [...n.guests].sort((a, b) => a.vmid - b.vmid)) {
    const base = {
      vmid: g.vmid,
      type: g.type,
      ...(g.name !== undefined ? { name: g.name } : {}),
    };
    const planned = (isExplicit: boolean): PlannedGuest => ({
      ...base,
      status: g.status,
      explicit: isExplicit,
      ...(g.lock ? { lock: g.lock } : {}),
    });
    if (explicit.size > 0) {
      if (!explicit.has(g.vmid)) continue;
      if (!config.backup.types.includes(g.type)) {
        throw new ConfigError(
          `--vmid ${g.vmid} on ${where(cluster, n.node)} is of type ${g.type}, not in backup.types (${config.backup.types.join(', ')})`,
        );
      }
      guests.push(planned(true));
      continue;
    }
    const reason = skipReason(g, config, state);
    if (reason !== undefined) skipped.push({ ...base, reason });
    else guests.push(planned(false));
  }
  if (explicit.size === 0) skipped.push(...(n.rejected ?? []));
  return { guests, skipped };
}
