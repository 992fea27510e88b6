/**
 * Storage configuration, storage status and the node's vzdump defaults, as a
 * preflight reads them (docs/pve-facts.md#preflight):
 * - `GET /storage` (Datastore.Audit or AllocateSpace per entry) and
 *   `GET /storage/{id}` (Datastore.Allocate): storage.cfg entries; `maxfiles`
 *   raw on 3.x, converted to `prune-backups` from PS 6.2-11, gone in 9.0.9.
 * - `GET /nodes/{n}/storage/{s}/status` (Audit or AllocateSpace): a disabled or
 *   node-restricted storage is `enabled:0` from PS 5.0-13, `No such storage.` before.
 * - `GET /nodes/{n}/vzdump/defaults` (PM >= 6.4-5): vzdump.conf merged with the
 *   storage's `prune-backups`; `script`, `dumpdir`, … hidden without Sys.Audit on the node.
 */
import { privilegesOn, requireAny } from './access.js';
import { ApiError } from './envelope.js';
import { arg, type Route, type RouteContext } from './router.js';
import type { SimStorageConfig } from './scenarioAccess.js';

const GiB = 1024 ** 3;

interface StorageEntry {
  id: string;
  backup: boolean;
  /** Nodes that list the storage. */
  nodes: string[];
  config: SimStorageConfig;
}

/** storage.cfg: every storage any node lists, with the scenario's extras. */
function storageCfg(ctx: RouteContext): StorageEntry[] {
  const byId = new Map<string, StorageEntry>();
  for (const n of ctx.state.nodes.values()) {
    for (const s of n.storages) {
      const e = byId.get(s.id) ?? {
        id: s.id,
        backup: s.backup,
        nodes: [],
        config: ctx.state.options.access?.storageConfig?.[s.id] ?? {},
      };
      e.nodes.push(n.name);
      byId.set(s.id, e);
    }
  }
  return [...byId.values()];
}

/** The nodes a storage is usable on: its `nodes` restriction, else every node listing it. */
function usableOn(e: StorageEntry): string[] {
  return e.config.nodes ?? e.nodes;
}

function configRow(ctx: RouteContext, e: StorageEntry): Record<string, unknown> {
  const row: Record<string, unknown> = {
    storage: e.id,
    type: 'dir',
    path: e.id === 'local' ? '/var/lib/vz' : `/var/lib/${e.id}`,
    content: e.backup ? 'backup,iso,vztmpl' : 'images,rootdir',
    shared: 0,
    digest: 'a8d3f0c4b1e6d2a79f5c3e1b0d4a6c8e2f7b9d1a',
  };
  if (e.config.nodes) row.nodes = e.config.nodes.join(',');
  if (e.config.disable) row.disable = 1;
  const { flavour } = ctx.state.flavour;
  if (flavour === '3.4') {
    if (e.config.maxfiles !== undefined) row.maxfiles = e.config.maxfiles;
  } else if (e.config.pruneBackups !== undefined) {
    row['prune-backups'] = e.config.pruneBackups;
  } else if (e.config.maxfiles !== undefined && flavour === '8.4') {
    // PS 6.2-11 (d4e8a1f): maxfiles becomes prune-backups; 9.0.9 dropped maxfiles entirely.
    row['prune-backups'] =
      e.config.maxfiles === 0 ? 'keep-all=1' : `keep-last=${e.config.maxfiles}`;
  }
  return row;
}

function listStorage(ctx: RouteContext) {
  const rows = storageCfg(ctx)
    .filter((e) => {
      const held = privilegesOn(ctx, `/storage/${e.id}`);
      return held.has('Datastore.Audit') || held.has('Datastore.AllocateSpace');
    })
    .map((e) => configRow(ctx, e));
  return { data: rows };
}

function findStorage(ctx: RouteContext, id: string): StorageEntry {
  const e = storageCfg(ctx).find((x) => x.id === id);
  if (!e) throw new ApiError(500, `storage '${id}' does not exist`);
  return e;
}

function getStorage(ctx: RouteContext) {
  const id = ctx.params[0]!;
  requireAny(ctx, `/storage/${id}`, ['Datastore.Allocate']);
  return { data: configRow(ctx, findStorage(ctx, id)) };
}

function storageStatus(ctx: RouteContext) {
  const id = ctx.params[0]!;
  requireAny(ctx, `/storage/${id}`, ['Datastore.Audit', 'Datastore.AllocateSpace']);
  const e = findStorage(ctx, id);
  const usable = !e.config.disable && usableOn(e).includes(ctx.node!.name);
  if (!usable && ctx.state.flavour.flavour === '3.4') {
    throw new ApiError(400, 'No such storage.');
  }
  const space = ctx.state.options.access?.space?.[id] ?? { total: 500 * GiB, avail: 412 * GiB };
  return {
    data: {
      type: 'dir',
      content: e.backup ? 'backup,iso,vztmpl' : 'images,rootdir',
      shared: 0,
      enabled: usable ? 1 : 0,
      active: usable ? 1 : 0,
      total: usable ? space.total : 0,
      used: usable ? space.total - space.avail : 0,
      avail: usable ? space.avail : 0,
    },
  };
}

function vzdumpDefaults(ctx: RouteContext) {
  const node = ctx.node!;
  const storage = arg(ctx, 'storage') ?? 'local';
  requireAny(ctx, `/storage/${storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace']);
  const e = findStorage(ctx, storage);
  if (!e.backup) {
    throw new ApiError(500, `storage '${storage}' does not support backups`);
  }
  const data: Record<string, unknown> = {
    storage,
    mode: 'snapshot',
    compress: '0',
    'prune-backups': 'keep-all=1',
    dumpdir: node.dumpDir,
    ionice: 7,
    lockwait: 180,
    stopwait: 10,
  };
  if (node.script !== undefined) data.script = node.script;
  // The storage's own prune-backups wins over vzdump.conf (PM VZDump.pm storage_info).
  const own = configRow(ctx, e)['prune-backups'];
  if (typeof own === 'string') data['prune-backups'] = own;
  if (!privilegesOn(ctx, `/nodes/${node.name}`).has('Sys.Audit')) {
    for (const k of ['mailto', 'tmpdir', 'dumpdir', 'script', 'ionice']) delete data[k];
  }
  return { data };
}

/** Storage config/status and vzdump defaults routes. */
export function storageConfigRoutes(): Route[] {
  return [
    { method: 'GET', pattern: /^\/storage$/, handler: listStorage },
    { method: 'GET', pattern: /^\/storage\/([^/]+)$/, handler: getStorage },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/storage\/([^/]+)\/status$/,
      handler: storageStatus,
    },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/vzdump\/defaults$/,
      handler: vzdumpDefaults,
      // PM 6.4-5 (5b9a403) added it: 8.4 and 9.1 of the simulated releases.
      when: (ctx) => ctx.state.flavour.flavour !== '3.4',
    },
  ];
}
