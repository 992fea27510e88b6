/**
 * Step 2 of a restore (docs/contract.md#restore): where the copy goes and
 * whether it may. The target node must be a node of a configured cluster and
 * online; the API endpoint follows the archive and the PVE version (an OpenVZ
 * backup goes to /lxc from PVE 4, which converts it; LXC cannot go to PVE 3).
 * A target vmid that exists anywhere in the cluster is refused unless
 * `--force`, which PVE honours only for a stopped, unlocked guest of the same
 * type on the target node (docs/pve-facts.md#restore) — so the tool refuses
 * the rest itself, before anything is done.
 */
import type { ClusterConfig, Config } from '../config/index.js';
import { ConfigError, PreflightError } from '../errors.js';
import { clientOptions, type InventoryOptions } from '../orchestrator/inventory.js';
import { createPveClient, type PveClient, type PveClientOptions } from '../pveApi/index.js';
import type { GuestType } from '../vocabulary.js';

export interface RestoreTarget {
  cluster: string;
  pveVersion: string;
  node: string;
  vmid: number;
  /** The endpoint and the guest type it creates. */
  type: GuestType;
  /** The guest a forced restore overwrites. */
  overwrites?: { type: GuestType; name?: string };
}

/** The PVE endpoint for an archive of `archiveType` on PVE `major`, or why there is none. */
export function restoreEndpoint(archiveType: GuestType, major: number): GuestType | string {
  if (archiveType === 'qemu') return 'qemu';
  if (major >= 4) return 'lxc';
  return archiveType === 'openvz'
    ? 'openvz'
    : `an LXC backup cannot be restored on PVE ${major}.x (OpenVZ only)`;
}

/** The configured cluster that has `node`, with its connected client; the caller closes it. */
async function clusterOf(
  config: Config,
  node: string,
  o: InventoryOptions,
): Promise<{ cluster: ClusterConfig; client: PveClient; version: string; major: number }> {
  const create = o.createClient ?? ((x: PveClientOptions) => createPveClient(x));
  const problems: string[] = [];
  for (const cluster of config.clusters) {
    const client = create(clientOptions(cluster, o));
    try {
      const version = await client.version(o.signal);
      const row = (await client.nodes(o.signal)).find((n) => n.node === node);
      if (!row) {
        await client.close();
        continue;
      }
      if (row.status !== 'online') {
        await client.close();
        throw new PreflightError(`node ${node} of cluster ${cluster.name} is ${row.status}`);
      }
      return { cluster, client, version: version.version, major: version.major };
    } catch (error) {
      await client.close().catch(() => {});
      if (error instanceof PreflightError) throw error;
      problems.push(`cluster ${cluster.name}: ${error instanceof Error ? error.message : error}`);
    }
  }
  if (problems.length === config.clusters.length) {
    throw new PreflightError(`no cluster could be read: ${problems.join('; ')}`);
  }
  throw new ConfigError(
    `node ${node} is not a node of any configured cluster${problems.length ? ` (unread: ${problems.join('; ')})` : ''}`,
  );
}

/**
 * Resolves and checks the target. Returns the open client of its cluster (the
 * caller closes it). ConfigError (exit 2) for every refusal.
 */
export async function resolveTarget(
  config: Config,
  r: { toNode: string; toVmid: number; archiveType: GuestType; force: boolean },
  o: InventoryOptions,
): Promise<{ target: RestoreTarget; client: PveClient }> {
  const c = await clusterOf(config, r.toNode, o);
  try {
    const type = restoreEndpoint(r.archiveType, c.major);
    if (type !== 'openvz' && type !== 'lxc' && type !== 'qemu') throw new ConfigError(type);
    const target: RestoreTarget = {
      cluster: c.cluster.name,
      pveVersion: c.version,
      node: r.toNode,
      vmid: r.toVmid,
      type,
    };
    const existing = (await c.client.clusterResources(o.signal)).find((g) => g.vmid === r.toVmid);
    if (existing) {
      const what = `guest ${r.toVmid} (${existing.type}${existing.name ? ` '${existing.name}'` : ''} on node ${existing.node})`;
      if (!r.force) {
        throw new ConfigError(
          `${what} exists: not overwritten (--force overwrites a stopped guest on the target node; or pick a free id with --to-vmid)`,
        );
      }
      if (existing.node !== r.toNode) {
        throw new ConfigError(
          `${what} is not on the target node ${r.toNode}: PVE overwrites only a guest on the node it restores to`,
        );
      }
      if (existing.type !== type) {
        throw new ConfigError(
          `${what} is not a ${type} guest: a ${type} restore cannot replace it`,
        );
      }
      const live = (await c.client.listGuests(r.toNode, existing.type, o.signal)).find(
        (g) => g.vmid === r.toVmid,
      );
      if (live?.lock) {
        throw new ConfigError(`${what} is locked (${live.lock}): a restore never overwrites it`);
      }
      const status = live?.status ?? existing.status ?? 'unknown';
      if (status !== 'stopped') {
        throw new ConfigError(
          `${what} is ${status}: a restore never overwrites a guest that is not stopped; stop it first`,
        );
      }
      target.overwrites = {
        type: existing.type,
        ...(existing.name !== undefined ? { name: existing.name } : {}),
      };
    }
    return { target, client: c.client };
  } catch (error) {
    await c.client.close().catch(() => {});
    throw error;
  }
}
