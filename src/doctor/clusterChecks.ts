/**
 * The API side of `doctor` for one cluster: reads what PVE answers (version,
 * nodes, privileges, storage config and status, vzdump defaults, the last
 * vzdump task) and turns it into check lines with the pure functions of
 * checks.ts. Read-only: GETs only. An endpoint the release lacks gives a
 * "cannot tell on PVE x.y" warning, never a guess.
 */
import { z } from 'zod';
import type { ClusterConfig, Config } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { clientOptions, failureKind } from '../orchestrator/inventory.js';
import { apiPath } from '../pveApi/http.js';
import { PveApiError, type PveClientOptions } from '../pveApi/index.js';
import { isNodeName } from '../pveApi/names.js';
import { Nodes, TaskLog, Tasks, Version } from '../pveApi/schemas.js';
import {
  hookDefaultsCannotTell,
  hookDefaultsCheck,
  LOCAL_SDN_ZONE,
  type Permissions,
  privilegesCannotTell,
  pruneCheck,
  restorePrivilegeChecks,
  type StorageConfigRow,
  spaceCheck,
  storageConfigCheck,
  storagePrivilegeCheck,
  taskLogCheck,
  vmBackupCheck,
} from './checks.js';
import { openPveReader, type PveReader } from './pveReader.js';
import { type CheckGroup, type CheckLine, fail, ok, warn } from './types.js';

export interface ClusterCheckOptions {
  logger: Logger;
  signal?: AbortSignal;
  onSecret?: (secret: string) => void;
  /** Only these nodes (`--node`); empty: every configured or listed node. */
  nodes: string[];
  /** `--restore`: also check what a restore needs. */
  restore?: boolean;
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
}

export interface ClusterChecks {
  groups: CheckGroup[];
  /** Whether the API answered at all. */
  reachable: boolean;
  /** The nodes checked (their NAS trees are checked too). */
  nodes: string[];
  /** Every node the cluster lists (to tell a mistyped `--node`). */
  listed: string[];
}

const PermissionsAnswer = z.record(z.string(), z.record(z.string(), z.unknown()));
const StorageRows = z.array(z.looseObject({ storage: z.string() }));
const Loose = z.looseObject({});
const TASK_LOG_LINES = 1000;

const isMissing = (error: unknown): boolean => error instanceof PveApiError && error.status === 501;

function tlsLine(cluster: ClusterConfig): CheckLine {
  const { tls } = cluster;
  if (tls.insecure) {
    return warn(
      'api',
      `API reachable at ${cluster.url}, TLS NOT verified (tls.insecure)`,
      "pin the certificate instead: tls.fingerprint as the node's GUI shows it",
    );
  }
  const how = tls.fingerprint
    ? 'certificate fingerprint pinned'
    : tls.caPem
      ? 'verified against tls.ca'
      : 'verified against the system CAs';
  return ok('api', `API reachable at ${cluster.url}, TLS ${how}`);
}

function unreachableLine(cluster: ClusterConfig, error: unknown): CheckLine {
  const kind = failureKind(error);
  const message = errorMessage(error);
  const fix =
    kind === 'auth'
      ? `check the token id and secret (or user and password) of cluster ${cluster.name}`
      : kind === 'tls'
        ? "set tls.fingerprint to the node's certificate fingerprint (pvenode cert info), or tls.ca"
        : kind === 'network'
          ? `check the url ${cluster.url} and that pveproxy listens there`
          : 'see the message; the API answered with an error';
  return fail('api', `API not usable (${kind}): ${message}`, fix);
}

/** Runs every API check of one cluster. */
export async function checkCluster(
  cluster: ClusterConfig,
  config: Config,
  o: ClusterCheckOptions,
): Promise<ClusterChecks> {
  const reader = openPveReader(
    clientOptions(cluster, {
      logger: o.logger,
      ...(o.onSecret ? { onSecret: o.onSecret } : {}),
      ...(o.client ? { client: o.client } : {}),
    }),
  );
  const whole: CheckGroup = { kind: 'cluster', name: cluster.name, node: '', lines: [] };
  try {
    let version: z.output<typeof Version>;
    try {
      version = await reader.get('/version', Version, undefined, o.signal);
    } catch (error) {
      whole.lines.push(unreachableLine(cluster, error));
      return { groups: [whole], reachable: false, nodes: [], listed: [] };
    }
    whole.lines.push(tlsLine(cluster));
    const release = version.version;
    const major = Number.parseInt(release, 10);
    whole.lines.push(ok('version', `PVE ${release}`));
    const principal = cluster.auth.kind === 'token' ? cluster.auth.tokenId : cluster.auth.username;
    const storage = config.backup.storage;

    const listed = await reader.get('/nodes', Nodes, undefined, o.signal);
    let names = cluster.nodes ?? listed.map((n) => n.node).filter(isNodeName);
    if (o.nodes.length > 0) names = names.filter((n) => o.nodes.includes(n));

    // Privileges: the tree (/vms and every ACL path), then the storage path resolved.
    let tree: Permissions | undefined;
    if (major >= 6) {
      try {
        tree = await reader.get('/access/permissions', PermissionsAnswer, undefined, o.signal);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    let nodeAudit: Map<string, boolean> | undefined;
    if (tree) {
      whole.lines.push(vmBackupCheck(principal, tree));
      const onStorage = await reader.get(
        '/access/permissions',
        PermissionsAnswer,
        { path: `/storage/${storage}` },
        o.signal,
      );
      whole.lines.push(storagePrivilegeCheck(principal, storage, onStorage));
      if (o.restore) {
        const sdn =
          major >= 8
            ? await reader.get(
                '/access/permissions',
                PermissionsAnswer,
                { path: LOCAL_SDN_ZONE },
                o.signal,
              )
            : undefined;
        whole.lines.push(
          ...restorePrivilegeChecks(principal, tree, { major, ...(sdn ? { sdn } : {}) }),
        );
      }
      nodeAudit = new Map();
      for (const node of names) {
        const p = `/nodes/${node}`;
        const perms = await reader.get(
          '/access/permissions',
          PermissionsAnswer,
          { path: p },
          o.signal,
        );
        nodeAudit.set(node, Object.hasOwn(perms[p] ?? {}, 'Sys.Audit'));
      }
    } else {
      whole.lines.push(privilegesCannotTell(release));
    }

    const storageRows = (await reader.get(
      '/storage',
      StorageRows,
      undefined,
      o.signal,
    )) as StorageConfigRow[];
    const row = storageRows.find((r) => r.storage === storage);

    const groups: CheckGroup[] = [whole];
    for (const node of names) {
      const group: CheckGroup = { kind: 'cluster', name: cluster.name, node, lines: [] };
      groups.push(group);
      const listedNode = listed.find((n) => n.node === node);
      if (!listedNode) {
        group.lines.push(
          fail('node', `node ${node} is not in the cluster`, 'fix clusters[].nodes in the config'),
        );
        continue;
      }
      if (listedNode.status === 'offline') {
        group.lines.push(
          fail('node', `node ${node} is offline`, 'bring it online, or leave it out with --node'),
        );
        continue;
      }
      try {
        await checkNode(reader, group, {
          node,
          storage,
          row,
          release,
          major,
          nodeAudit,
          signal: o.signal,
        });
      } catch (error) {
        group.lines.push(
          fail('node', `cannot read node ${node}: ${errorMessage(error)}`, 'see the message'),
        );
      }
    }
    return { groups, reachable: true, nodes: names, listed: listed.map((n) => n.node) };
  } catch (error) {
    whole.lines.push(
      fail('api', `cannot read the cluster: ${errorMessage(error)}`, 'see the message'),
    );
    return { groups: [whole], reachable: true, nodes: [], listed: [] };
  } finally {
    await reader.close().catch(() => {});
  }
}

async function checkNode(
  reader: PveReader,
  group: CheckGroup,
  c: {
    node: string;
    storage: string;
    row: StorageConfigRow | undefined;
    release: string;
    major: number;
    nodeAudit: Map<string, boolean> | undefined;
    signal: AbortSignal | undefined;
  },
): Promise<void> {
  const { node, storage, row, signal } = c;
  const lines = group.lines;
  lines.push(storageConfigCheck(storage, node, row));
  if (!row) return;

  try {
    const status = await reader.get(
      apiPath('nodes', node, 'storage', storage, 'status'),
      z.looseObject({
        enabled: z.coerce.number().optional(),
        active: z.coerce.number().optional(),
        total: z.coerce.number().optional(),
        avail: z.coerce.number().optional(),
      }),
      undefined,
      signal,
    );
    lines.push(spaceCheck(storage, node, status));
  } catch (error) {
    if (!(error instanceof PveApiError) || error.status === undefined) throw error;
    // 3.x/4.x answer 400 "No such storage." for a disabled or node-restricted storage.
    lines.push(
      fail(
        'storage.space',
        `staging storage ${storage} is not available on ${node}: ${error.pveMessage ?? error.message}`,
        `enable ${storage} for ${node} (pvesm set ${storage} --disable 0 --nodes …)`,
      ),
    );
  }

  let defaults: Record<string, unknown> | undefined;
  try {
    defaults = await reader.get(
      apiPath('nodes', node, 'vzdump', 'defaults'),
      Loose,
      { storage },
      signal,
    );
  } catch (error) {
    if (!isMissing(error)) {
      lines.push(
        warn(
          'hook.defaults',
          `cannot read the vzdump defaults: ${errorMessage(error)}`,
          `grant Datastore.Audit on /storage/${storage} (role PVEDatastoreUser)`,
        ),
      );
    } else lines.push(hookDefaultsCannotTell(c.release));
  }
  if (defaults) {
    lines.push(hookDefaultsCheck(node, defaults, c.nodeAudit?.get(node) ?? false));
    const prune = defaults['prune-backups'];
    lines.push(
      pruneCheck(
        storage,
        typeof prune === 'string' ? { pruneBackups: prune } : {},
        'vzdump defaults',
      ),
    );
  } else {
    const setting: { pruneBackups?: string; maxfiles?: number | string } = {};
    if (row['prune-backups'] !== undefined) setting.pruneBackups = row['prune-backups'];
    if (row.maxfiles !== undefined) setting.maxfiles = row.maxfiles;
    lines.push(pruneCheck(storage, setting, 'storage.cfg'));
  }

  // The newest finished vzdump task of the node. `typefilter` exists from PM 5.3-9;
  // before, every parameter the method does not know is refused, so filter here.
  const tasks = await reader.get(
    apiPath('nodes', node, 'tasks'),
    Tasks,
    c.major >= 6 ? { typefilter: 'vzdump', limit: 50 } : { limit: 50 },
    signal,
  );
  const last = tasks.find(
    (t) => t.type === 'vzdump' && t.status !== undefined && t.status !== 'RUNNING',
  );
  let logLines: string[] = [];
  if (last) {
    const log = await reader.get(
      apiPath('nodes', node, 'tasks', last.upid, 'log'),
      TaskLog,
      { start: 0, limit: TASK_LOG_LINES },
      signal,
    );
    logLines = log.map((l) => l.t);
  }
  lines.push(
    taskLogCheck(
      last
        ? {
            upid: last.upid,
            ...(last.starttime !== undefined ? { starttime: last.starttime } : {}),
          }
        : undefined,
      logLines,
    ),
  );
}
