import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/log.js';
import { readInventory, typesFor } from '../../../src/orchestrator/inventory.js';
import { PveAuthError, type PveClient, type PveClientOptions } from '../../../src/pveApi/index.js';

function config(
  clusters: Partial<Config['clusters'][number]>[],
  types: Config['backup']['types'],
): Config {
  return {
    clusters: clusters.map((c, i) => ({
      name: `c${i}`,
      url: 'https://127.0.0.1:8006',
      auth: { kind: 'token', tokenId: 'a@pve!b', secret: 's' },
      tls: { insecure: false },
      ...c,
    })),
    ftp: {
      host: 'h',
      port: 21,
      user: 'u',
      password: 'p',
      secure: false,
      dir: '/d',
      insecure: false,
    },
    backup: {
      guests: 'running',
      types,
      exclude: [],
      storage: 'st',
      mode: 'snapshot',
      compress: 'zstd',
      parallelNodes: 2,
      uploadAt: 'log-end',
    },
    retention: { keep: 3 },
    status: { maxAgeSeconds: 93_600 },
  };
}

/** A fake client per cluster; records the guest lists asked for. */
function fakeClients(behaviour: Record<string, { major: number; fail?: 'auth' | 'node' }>) {
  const asked: string[] = [];
  const create = (o: PveClientOptions): PveClient => {
    const b = behaviour[o.cluster] ?? { major: 8 };
    const fake = {
      cluster: o.cluster,
      async version() {
        if (b.fail === 'auth')
          throw new PveAuthError({
            cluster: o.cluster,
            method: 'GET',
            path: '/version',
            status: 401,
            pveMessage: 'authentication failure',
            principal: 'a@pve!b',
          });
        return { version: `${b.major}.1.2`, release: `${b.major}.1`, major: b.major };
      },
      async nodes() {
        return [
          { node: 'n2', status: 'online' as const },
          { node: 'n1', status: 'online' as const },
          { node: 'n3', status: 'offline' as const },
        ];
      },
      async listGuests(node: string, type: string) {
        asked.push(`${o.cluster}/${node}/${type}`);
        if (b.fail === 'node' && node === 'n2')
          throw Object.assign(new Error('595 no route'), { status: 595 });
        return [{ vmid: 100, type, status: 'running', template: false }];
      },
      async close() {},
      secrets: () => [],
    };
    return fake as unknown as PveClient;
  };
  return { asked, create };
}

describe('inventory', () => {
  it('lists OpenVZ only before PVE 4, LXC from 4 on, QEMU when configured', () => {
    expect(typesFor(['lxc', 'openvz'], 3)).toEqual(['openvz']);
    expect(typesFor(['lxc', 'openvz'], 8)).toEqual(['lxc']);
    expect(typesFor(['lxc', 'openvz', 'qemu'], 9)).toEqual(['lxc', 'qemu']);
  });

  it('reads each online node, restricted to the configured nodes; offline nodes are listed without requests', async () => {
    const f = fakeClients({ c0: { major: 8 } });
    const inv = await readInventory(
      config([{ nodes: ['n1', 'n3', 'ghost'] }], ['lxc', 'openvz', 'qemu']),
      {
        logger: silentLogger(),
        createClient: f.create,
      },
    );
    expect(inv.failures).toEqual([]);
    expect(inv.inventory[0]?.nodes.map((n) => [n.node, n.online, n.guests.length])).toEqual([
      ['ghost', false, 0],
      ['n1', true, 2],
      ['n3', false, 0],
    ]);
    expect(f.asked).toEqual(['c0/n1/lxc', 'c0/n1/qemu']);
  });

  it('turns a cluster auth failure into a ClusterFailure and keeps the other clusters; a failing node only marks that node', async () => {
    const f = fakeClients({ c0: { major: 3, fail: 'auth' }, c1: { major: 8, fail: 'node' } });
    const inv = await readInventory(config([{}, {}], ['lxc', 'openvz']), {
      logger: silentLogger(),
      createClient: f.create,
    });
    expect(inv.failures).toEqual([expect.objectContaining({ cluster: 'c0', kind: 'auth' })]);
    expect(inv.inventory.map((i) => i.cluster)).toEqual(['c1']);
    expect(inv.inventory[0]?.nodes.find((n) => n.node === 'n2')?.online).toBe(false);
    expect(inv.nodeProblems.get('c1/n2')).toMatch(/595/);
    expect([...inv.clients.keys()]).toEqual(['c1']);
  });
});
