/**
 * Read-only cluster endpoints (docs/pve-facts.md#version, #nodes,
 * #guests): /version, /nodes,
 * /cluster/resources, /cluster/status and the per-node guest lists, with the
 * field sets and JSON types of each flavour.
 */
import { type ClusterState, guestName, type NodeState } from './cluster.js';
import { ApiError } from './envelope.js';
import type { Route, RouteContext } from './router.js';
import { arg } from './router.js';
import type { SimGuest } from './scenario.js';

const GiB = 1024 ** 3;

function nodeRow(state: ClusterState, n: NodeState, fingerprint: string): Record<string, unknown> {
  // Before PM 5.1-37 there is no `status`: only an online node's row has uptime, cpu, mem.
  const withStatus = state.flavour.nodeStatus;
  if (!n.online) return withStatus ? { node: n.name, status: 'offline' } : { node: n.name };
  const row: Record<string, unknown> = {
    node: n.name,
    ...(withStatus ? { status: 'online' } : {}),
    cpu: 0.0123,
    maxcpu: 8,
    mem: 3 * GiB,
    maxmem: 16 * GiB,
    uptime: 86400,
    level: '',
  };
  if (state.flavour.nodeFingerprint) row.ssl_fingerprint = fingerprint;
  return row;
}

function running(g: SimGuest): boolean {
  return g.status === 'running';
}

/** One row of a per-node guest list, typed as the flavour serialises it. */
export function guestRow(state: ClusterState, g: SimGuest, full: boolean): Record<string, unknown> {
  const up = running(g);
  const stats = {
    cpus: 2,
    cpu: up ? 0.01 : 0,
    maxmem: GiB,
    mem: up ? 123456789 : 0,
    maxdisk: 8 * GiB,
    disk: 1234567890,
    uptime: up ? 3600 : 0,
    netin: up ? 1000 : 0,
    netout: up ? 1000 : 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (g.type === 'openvz') {
    // PM stable-3 OpenVZ.pm: vmid is the hash key, hence a string; no lock field.
    return {
      vmid: String(g.vmid),
      type: 'openvz',
      name: guestName(g),
      status: g.status,
      ...stats,
      swap: 0,
      maxswap: GiB / 2,
      nproc: up ? 23 : 0,
      failcnt: 0,
      ip: '-',
    };
  }
  const row: Record<string, unknown> = {
    vmid: g.type === 'lxc' && state.flavour.containerVmidAsString ? String(g.vmid) : g.vmid,
    name: guestName(g),
    status: g.status === 'mounted' ? 'stopped' : g.status,
    ...stats,
  };
  if (g.type === 'lxc') {
    row.type = 'lxc';
    row.maxswap = GiB / 2;
    row.swap = 0;
    if (g.template) row.template = 1;
  } else {
    row.template = g.template ? 1 : 0;
    if (full) row.qmpstatus = up ? 'running' : 'stopped';
  }
  if (up) row.pid = 10000 + g.vmid;
  if (g.lock) row.lock = g.lock;
  if (state.flavour.flavour === '9.1') {
    for (const k of ['pressurecpusome', 'pressurecpufull', 'pressureiosome', 'pressureiofull']) {
      row[k] = 0;
    }
  }
  return row;
}

function resourceRows(state: ClusterState, type: string | undefined): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const modern = state.flavour.tokens;
  for (const n of state.nodes.values()) {
    if (type === undefined || type === 'vm') {
      for (const g of n.guests.filter((x) => state.visible(x))) {
        const row: Record<string, unknown> = {
          id: `${g.type}/${g.vmid}`,
          type: g.type,
          vmid: g.vmid,
          node: n.name,
          name: guestName(g),
          template: g.template ? 1 : 0,
          uptime: running(g) ? 3600 : 0,
          maxcpu: 2,
          cpu: 0,
          maxmem: GiB,
          mem: 0,
          maxdisk: 8 * GiB,
          disk: 0,
          netin: 0,
          netout: 0,
          diskread: 0,
          diskwrite: 0,
        };
        // status comes from pvestatd broadcasts: unknown (current) or absent (3.x) when offline.
        if (n.online) row.status = g.status;
        else if (modern) row.status = 'unknown';
        if (modern && g.lock) row.lock = g.lock;
        rows.push(row);
      }
    }
    if (type === undefined || type === 'node') {
      rows.push({
        id: `node/${n.name}`,
        type: 'node',
        node: n.name,
        status: n.online ? 'online' : 'offline',
      });
    }
    if (type === undefined || type === 'storage') {
      for (const s of n.storages) {
        rows.push({
          id: `storage/${n.name}/${s.id}`,
          type: 'storage',
          storage: s.id,
          node: n.name,
          status: n.online ? 'available' : 'unknown',
          content: s.backup ? 'backup,vztmpl,iso' : 'images,rootdir',
        });
      }
    }
  }
  return rows;
}

function guestList(kind: 'openvz' | 'lxc' | 'qemu') {
  return (ctx: RouteContext) => ({
    data: ctx
      .node!.guests.filter((g) => g.type === kind)
      .map((g) => guestRow(ctx.state, g, arg(ctx, 'full') === '1'))
      .concat(ctx.state.options.hostile?.guestRows?.[ctx.node!.name] ?? []),
  });
}

function guestStatus(ctx: RouteContext) {
  const [kind, vmidText] = [ctx.params[0]!, ctx.params[1]!];
  const guest = ctx.node!.guests.find((g) => g.type === kind && String(g.vmid) === vmidText);
  if (!guest) {
    throw new ApiError(
      500,
      `Configuration file 'nodes/${ctx.node!.name}/${kind}/${vmidText}.conf' does not exist`,
    );
  }
  return { data: { ...guestRow(ctx.state, guest, true), ha: { managed: 0 } } };
}

/** The read-only routes; `fingerprint` is the server certificate's. */
export function infoRoutes(fingerprint: string): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/version$/,
      handler: (c) => ({ data: { ...c.state.flavour.version } }),
    },
    {
      method: 'GET',
      pattern: /^\/nodes$/,
      handler: (c) => ({
        data: [
          ...[...c.state.nodes.values()].map((n) => nodeRow(c.state, n, fingerprint)),
          ...(c.state.options.hostile?.nodeRows ?? []),
        ],
      }),
    },
    {
      method: 'GET',
      pattern: /^\/cluster\/resources$/,
      handler: (c) => ({ data: resourceRows(c.state, arg(c, 'type')) }),
    },
    {
      method: 'GET',
      pattern: /^\/cluster\/status$/,
      handler: (c) => {
        const nodes = [...c.state.nodes.values()];
        return {
          data: [
            {
              type: 'cluster',
              id: 'cluster',
              name: c.state.options.clusterName ?? 'sim',
              nodes: nodes.length,
              quorate: 1,
              version: nodes.length,
            },
            ...nodes.map((n, i) => ({
              type: 'node',
              id: `node/${n.name}`,
              name: n.name,
              nodeid: i + 1,
              ip: `192.0.2.${i + 1}`,
              online: n.online ? 1 : 0,
              local: i === 0 ? 1 : 0,
              level: '',
            })),
          ],
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/openvz$/,
      handler: guestList('openvz'),
      when: (c) => c.state.flavour.containerType === 'openvz',
    },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/lxc$/,
      handler: guestList('lxc'),
      when: (c) => c.state.flavour.containerType === 'lxc',
    },
    { method: 'GET', pattern: /^\/nodes\/[^/]+\/qemu$/, handler: guestList('qemu') },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/(openvz|lxc|qemu)\/(\d+)\/status\/current$/,
      handler: guestStatus,
      when: (c) => c.params[0] === 'qemu' || c.params[0] === c.state.flavour.containerType,
    },
  ];
}
