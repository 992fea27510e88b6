/**
 * What each configured cluster has: PVE version, nodes (restricted to the
 * cluster's `nodes` when set) and, per online node, the guests of the
 * configured types the version knows (OpenVZ on PVE 3.x, LXC from 4.0, QEMU
 * when configured). Read-only (GETs). A cluster that cannot be reached or
 * authenticated becomes a ClusterFailure, not an exception: other clusters go
 * on, and the caller decides the exit code.
 */
import type { ClusterConfig, Config } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import {
  createPveClient,
  type GuestType,
  PveAuthError,
  type PveClient,
  type PveClientOptions,
  type PveGuest,
  PveTlsError,
} from '../pveApi/index.js';
import { escapeForLog, hasControlChars, isNodeName, isVmid, showValue } from '../pveApi/names.js';
import type { ClusterInventory, SkippedGuest } from './plan.js';
import type { ClusterFailure } from './types.js';

export interface InventoryResult {
  inventory: ClusterInventory[];
  /** One API client per reachable cluster, by cluster name; the caller closes them. */
  clients: Map<string, PveClient>;
  failures: ClusterFailure[];
  /** Why a node counts as offline although PVE listed it online (its guest list failed). */
  nodeProblems: Map<string, string>;
}

export interface InventoryOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** Told every secret a client comes to use (tickets, CSRF tokens), for redaction. */
  onSecret?: (secret: string) => void;
  /** Test/bench knobs passed to every client. */
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
  /** Makes the client (tests inject); default createPveClient. */
  createClient?: (o: PveClientOptions) => PveClient;
}

/** The guest types to list on a node of PVE `major`. */
export function typesFor(configured: readonly GuestType[], major: number): GuestType[] {
  return configured.filter((t) => (t === 'openvz' ? major < 4 : t === 'lxc' ? major >= 4 : true));
}

/** Classify a cluster-level failure for the report and exit code. */
export function failureKind(error: unknown): ClusterFailure['kind'] {
  if (error instanceof PveAuthError) return 'auth';
  if (error instanceof PveTlsError) return 'tls';
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status > 0 && status < 595 ? 'api' : 'network';
}

/** Build one client per cluster from the configuration. */
export function clientOptions(cluster: ClusterConfig, o: InventoryOptions): PveClientOptions {
  return {
    cluster: cluster.name,
    baseUrl: cluster.url,
    auth: cluster.auth,
    tls: {
      ...(cluster.tls.fingerprint ? { fingerprint: cluster.tls.fingerprint } : {}),
      ...(cluster.tls.caPem ? { caPem: cluster.tls.caPem } : {}),
      insecure: cluster.tls.insecure,
    },
    logger: o.logger.child({ cluster: cluster.name }),
    ...(o.onSecret ? { onSecret: o.onSecret } : {}),
    ...o.client,
  };
}

/** Read every cluster's inventory (clusters in parallel, nodes of a cluster one by one). */
export async function readInventory(config: Config, o: InventoryOptions): Promise<InventoryResult> {
  const create = o.createClient ?? createPveClient;
  const result: InventoryResult = {
    inventory: [],
    clients: new Map(),
    failures: [],
    nodeProblems: new Map(),
  };
  const perCluster = await Promise.all(
    config.clusters.map(async (cluster) => {
      const client = create(clientOptions(cluster, o));
      try {
        const inv = await readCluster(client, cluster, config.backup.types, o, result.nodeProblems);
        return { cluster, client, inv };
      } catch (error) {
        await client.close().catch(() => {});
        const kind = failureKind(error);
        const message = errorMessage(error);
        o.logger.error(`cluster ${cluster.name}: ${message}`, { cluster: cluster.name, kind });
        return { cluster, failure: { cluster: cluster.name, kind, error: message } };
      }
    }),
  );
  for (const r of perCluster) {
    if ('failure' in r && r.failure) result.failures.push(r.failure);
    else if ('inv' in r && r.inv) {
      result.inventory.push(r.inv);
      result.clients.set(r.cluster.name, r.client);
    }
  }
  return result;
}

async function readCluster(
  client: PveClient,
  cluster: ClusterConfig,
  types: readonly GuestType[],
  o: InventoryOptions,
  nodeProblems: Map<string, string>,
): Promise<ClusterInventory> {
  const version = await client.version(o.signal);
  const wanted = cluster.nodes;
  const listed = acceptableNodes(await client.nodes(o.signal), cluster.name, o, nodeProblems);
  const nodes = wanted
    ? wanted.map(
        (name) => listed.find((n) => n.node === name) ?? { node: name, status: 'unknown' as const },
      )
    : listed;
  const kinds = typesFor(types, version.major);
  const inventory: ClusterInventory = {
    cluster: cluster.name,
    pveVersion: version.version,
    pveMajor: version.major,
    nodes: [],
  };
  for (const n of [...nodes].sort((a, b) => a.node.localeCompare(b.node))) {
    if (n.status !== 'online' || !isNodeName(n.node)) {
      inventory.nodes.push({ node: n.node, online: false, guests: [] });
      continue;
    }
    try {
      const rows: PveGuest[] = [];
      for (const kind of kinds) rows.push(...(await client.listGuests(n.node, kind, o.signal)));
      const { guests, rejected } = acceptableGuests(rows, cluster.name, n.node, o);
      inventory.nodes.push({
        node: n.node,
        online: true,
        guests,
        ...(rejected.length > 0 ? { rejected } : {}),
      });
    } catch (error) {
      // Auth and TLS problems concern the whole cluster; anything else only this node.
      if (error instanceof PveAuthError || error instanceof PveTlsError) throw error;
      const message = errorMessage(error);
      o.logger.warn(`node ${n.node}: guest list failed, node skipped: ${message}`, {
        cluster: cluster.name,
        node: n.node,
      });
      nodeProblems.set(`${cluster.name}/${n.node}`, message);
      inventory.nodes.push({ node: n.node, online: false, guests: [] });
    }
  }
  return inventory;
}

/**
 * The node rows PVE could have sent. A node whose name PVE itself would refuse
 * (`../evil`, a name with `/` or control characters) is hostile or corrupt:
 * it never reaches a URL or an NAS path. It stays in the inventory under its
 * escaped name, offline, so the report names it and counts it like a node
 * that could not be done; the other nodes go on.
 */
function acceptableNodes<T extends { node: string; status: string }>(
  rows: readonly T[],
  cluster: string,
  o: InventoryOptions,
  nodeProblems: Map<string, string>,
): { node: string; status: T['status'] | 'unknown' }[] {
  return rows.map((row) => {
    if (isNodeName(row.node)) return row;
    const shown = escapeForLog(row.node);
    const reason = `PVE listed a node named ${showValue(row.node)}, which is not a valid PVE node name; skipped, nothing done for it`;
    o.logger.warn(`cluster ${cluster}: ${reason}`, { cluster });
    nodeProblems.set(`${cluster}/${shown}`, reason);
    return { node: shown, status: 'unknown' as const };
  });
}

/**
 * The guest rows PVE could have sent: a vmid outside PVE's range is reported as
 * skipped on its node (the others go on); a name with control characters is
 * kept escaped, so log lines and the report stay one line per record — the
 * guest is still backed up (vzdump needs only the vmid).
 */
function acceptableGuests(
  rows: readonly PveGuest[],
  cluster: string,
  node: string,
  o: InventoryOptions,
): { guests: PveGuest[]; rejected: SkippedGuest[] } {
  const guests: PveGuest[] = [];
  const rejected: SkippedGuest[] = [];
  for (const g of rows) {
    const name = g.name !== undefined && hasControlChars(g.name) ? escapeForLog(g.name) : g.name;
    if (name !== g.name) {
      o.logger.warn(
        `node ${node}: guest ${g.vmid} has control characters in its name; shown escaped`,
        {
          cluster,
          node,
        },
      );
    }
    const guest: PveGuest = { ...g, ...(name !== undefined ? { name } : {}) };
    if (!isVmid(g.vmid)) {
      const reason = `vmid ${showValue(g.vmid)} is not a valid PVE vmid (100 to 999999999); not backed up`;
      o.logger.warn(`node ${node}: ${reason}`, { cluster, node });
      rejected.push({
        vmid: g.vmid,
        type: g.type,
        ...(name !== undefined ? { name } : {}),
        reason,
      });
      continue;
    }
    guests.push(guest);
  }
  return { guests, rejected };
}
