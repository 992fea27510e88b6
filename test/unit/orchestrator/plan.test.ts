import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { type ClusterInventory, planRun } from '../../../src/orchestrator/plan.js';
import type { PveGuest } from '../../../src/pveApi/index.js';

function config(
  over: Partial<Config['backup']> = {},
  clusters?: Partial<Config['clusters'][number]>[],
): Config {
  const base = {
    url: 'https://pve.test:8006',
    auth: { kind: 'token' as const, tokenId: 'a@pve!b', secret: 's' },
    tls: { insecure: false },
  };
  return {
    clusters: (clusters ?? [{ name: 'home' }]).map((c) => ({ name: 'home', ...base, ...c })),
    ftp: {
      host: 'nas',
      port: 21,
      user: 'u',
      password: 'p',
      secure: false,
      dir: '/d',
      insecure: false,
    },
    backup: {
      guests: 'running',
      types: ['lxc', 'openvz'],
      exclude: [],
      storage: 'ftp-staging',
      mode: 'snapshot',
      compress: 'zstd',
      parallelNodes: 2,
      uploadAt: 'log-end',
      ...over,
    },
    retention: { keep: 10 },
    status: { maxAgeSeconds: 93_600 },
  };
}

/** PVE < 6.2 has no API tokens. */
const TICKET = [
  { name: 'home', auth: { kind: 'ticket' as const, username: 'root@pam', password: 'pw' } },
];

const g = (vmid: number, status: string, more: Partial<PveGuest> = {}): PveGuest => ({
  vmid,
  type: 'lxc',
  status,
  template: false,
  name: `ct${vmid}`,
  ...more,
});

function inv(
  nodes: ClusterInventory['nodes'],
  version = '8.2.4',
  cluster = 'home',
): ClusterInventory {
  return { cluster, pveVersion: version, pveMajor: Number(version.split('.')[0]), nodes };
}

const TWO_NODES = inv([
  { node: 'pve2', online: true, guests: [g(201, 'running'), g(200, 'stopped')] },
  {
    node: 'pve1',
    online: true,
    guests: [
      g(103, 'running'),
      g(101, 'running'),
      g(102, 'stopped'),
      g(104, 'running', { template: true }),
      g(105, 'running'),
      g(100, 'running', { type: 'qemu', name: 'vm100' }),
    ],
  },
]);

const ids = (plans: ReturnType<typeof planRun>) =>
  Object.fromEntries(plans.map((p) => [p.node, p.guests.map((x) => x.vmid)]));

function throws(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('planRun: default selection', () => {
  it('running containers of every node, sorted by vmid, nodes by name; says why others are skipped', () => {
    const plans = planRun(config({ exclude: [105] }), [TWO_NODES], { nodes: [], vmids: [] });
    expect(ids(plans)).toEqual({ pve1: [101, 103], pve2: [201] });
    expect(plans.map((p) => p.node)).toEqual(['pve1', 'pve2']);
    expect(plans[0]!.skipped).toEqual([
      { vmid: 100, type: 'qemu', name: 'vm100', reason: 'type qemu not in backup.types' },
      {
        vmid: 102,
        type: 'lxc',
        name: 'ct102',
        reason: 'stopped; only running guests are selected',
      },
      { vmid: 104, type: 'lxc', name: 'ct104', reason: 'template' },
      { vmid: 105, type: 'lxc', name: 'ct105', reason: 'excluded (backup.exclude)' },
    ]);
    expect(plans[0]).toMatchObject({ cluster: 'home', online: true, pveVersion: '8.2.4' });
    expect(plans[0]!.guests[0]).toEqual({
      vmid: 101,
      type: 'lxc',
      name: 'ct101',
      status: 'running',
      explicit: false,
    });
  });

  it('qemu is opt-in through backup.types', () => {
    const plans = planRun(config({ types: ['lxc', 'qemu'] }), [TWO_NODES], {
      nodes: [],
      vmids: [],
    });
    expect(ids(plans).pve1).toEqual([100, 101, 103, 105]);
  });

  it('--guests overrides backup.guests: stopped, all', () => {
    const stopped = planRun(config(), [TWO_NODES], { nodes: [], vmids: [], guests: 'stopped' });
    expect(ids(stopped)).toEqual({ pve1: [102], pve2: [200] });
    const all = planRun(config({ guests: 'stopped' }), [TWO_NODES], {
      nodes: [],
      vmids: [],
      guests: 'all',
    });
    expect(ids(all)).toEqual({ pve1: [101, 102, 103, 105], pve2: [200, 201] });
  });

  it('OpenVZ on PVE 3.x: mounted is not running; compress zstd is refused there', () => {
    const old = inv(
      [
        {
          node: 'old1',
          online: true,
          guests: [
            g(101, 'running', { type: 'openvz' }),
            g(102, 'mounted', { type: 'openvz' }),
            g(103, 'stopped', { type: 'openvz' }),
          ],
        },
      ],
      '3.4',
    );
    const run = planRun(config({ compress: 'lzo' }, TICKET), [old], { nodes: [], vmids: [] });
    expect(ids(run)).toEqual({ old1: [101] });
    expect(run[0]!.skipped.find((s) => s.vmid === 102)!.reason).toContain('mounted');
    const stopped = planRun(config({ compress: 'lzo' }, TICKET), [old], {
      nodes: [],
      vmids: [],
      guests: 'stopped',
    });
    expect(ids(stopped)).toEqual({ old1: [102, 103] });

    const e = throws(() =>
      planRun(config({ compress: 'zstd' }, TICKET), [old], { nodes: [], vmids: [] }),
    );
    expect(e.message).toContain('backup.compress: zstd needs PVE >= 6.2');
    expect(e.message).toContain("cluster 'home' runs PVE 3.4");
  });

  it('zstd: refused on 6.1, allowed on 6.2-4 and later', () => {
    const at = (v: string) => inv([{ node: 'n', online: true, guests: [g(101, 'running')] }], v);
    throws(() => planRun(config({}), [at('6.1-3')], { nodes: [], vmids: [] }));
    expect(ids(planRun(config({}), [at('6.2-4')], { nodes: [], vmids: [] }))).toEqual({ n: [101] });
  });

  it('types that select nothing on the version are refused (lxc only on PVE 3.x)', () => {
    const old = inv([{ node: 'old1', online: true, guests: [] }], '3.4');
    const e = throws(() =>
      planRun(config({ types: ['lxc'], compress: 'gzip' }, TICKET), [old], {
        nodes: [],
        vmids: [],
      }),
    );
    expect(e.message).toContain('backup.types [lxc] selects nothing');
    expect(e.message).toContain('add openvz');
  });

  it('API tokens are refused on PVE < 6.2', () => {
    const old = inv([{ node: 'n', online: true, guests: [] }], '5.4');
    const e = throws(() => planRun(config({ compress: 'lzo' }), [old], { nodes: [], vmids: [] }));
    expect(e.message).toContain('clusters[0].auth: API tokens need PVE >= 6.2');
  });

  it('an offline node is planned with online:false, the others go on', () => {
    const withOffline = inv([...TWO_NODES.nodes, { node: 'pve3', online: false, guests: [] }]);
    const plans = planRun(config(), [withOffline], { nodes: [], vmids: [] });
    expect(plans.map((p) => [p.node, p.online])).toEqual([
      ['pve1', true],
      ['pve2', true],
      ['pve3', false],
    ]);
  });

  it('the cluster nodes setting restricts nodes', () => {
    const plans = planRun(config({}, [{ name: 'home', nodes: ['pve2'] }]), [TWO_NODES], {
      nodes: [],
      vmids: [],
    });
    expect(plans.map((p) => p.node)).toEqual(['pve2']);
    const e = throws(() =>
      planRun(config({}, [{ name: 'home', nodes: ['pve2'] }]), [TWO_NODES], {
        nodes: ['pve1'],
        vmids: [],
      }),
    );
    expect(e.message).toContain('--node pve1: not among the nodes configured for cluster home');
  });

  it('clusters come in config order', () => {
    const other = inv([{ node: 'a1', online: true, guests: [g(101, 'running')] }], '9.1.2', 'lab');
    const cfg = config({}, [{ name: 'lab' }, { name: 'home' }]);
    expect(planRun(cfg, [TWO_NODES, other], { nodes: [], vmids: [] }).map((p) => p.node)).toEqual([
      'a1',
      'pve1',
      'pve2',
    ]);
  });
});

describe('planRun: one NAS tree per node name', () => {
  it('refuses two clusters with a node of the same name (they would share {dir}/{node})', () => {
    const a = inv([{ node: 'pve', online: true, guests: [g(100, 'running')] }], '8.2.4', 'home');
    const b = inv([{ node: 'pve', online: true, guests: [g(100, 'running')] }], '8.2.4', 'lab');
    const cfg = config({}, [{ name: 'home' }, { name: 'lab' }]);
    const e = throws(() => planRun(cfg, [a, b], { nodes: [], vmids: [] }));
    expect(e.message).toContain('node name pve exists in clusters home and lab');
    expect(e.message).toContain('/d/pve');
    // Restricting one cluster to other nodes resolves it.
    const restricted = config({}, [{ name: 'home' }, { name: 'lab', nodes: ['other'] }]);
    expect(planRun(restricted, [a, b], { nodes: [], vmids: [] }).map((p) => p.cluster)).toEqual([
      'home',
    ]);
  });
});

describe('planRun: --node and --vmid', () => {
  it('--node restricts to that node', () => {
    expect(ids(planRun(config(), [TWO_NODES], { nodes: ['pve2'], vmids: [] }))).toEqual({
      pve2: [201],
    });
  });

  it('an explicit --vmid is backed up whatever its state, excluded or a template', () => {
    const plans = planRun(config({ exclude: [105] }), [TWO_NODES], {
      nodes: [],
      vmids: [102, 104, 105],
    });
    expect(ids(plans)).toEqual({ pve1: [102, 104, 105] });
    expect(plans[0]!.guests.every((x) => x.explicit)).toBe(true);
    expect(plans[0]!.skipped).toEqual([]);
  });

  it('--vmid and --node combine (AND)', () => {
    expect(ids(planRun(config(), [TWO_NODES], { nodes: ['pve2'], vmids: [200] }))).toEqual({
      pve2: [200],
    });
  });

  it('unknown --node names what exists', () => {
    const e = throws(() => planRun(config(), [TWO_NODES], { nodes: ['pve9'], vmids: [] }));
    expect(e.message).toContain('--node pve9: no such node');
    expect(e.message).toContain('home/pve1, home/pve2');
  });

  it('unknown --vmid is an error, naming offline nodes that were not searched', () => {
    const withOffline = inv([...TWO_NODES.nodes, { node: 'pve3', online: false, guests: [] }]);
    const e = throws(() => planRun(config(), [withOffline], { nodes: [], vmids: [999] }));
    expect(e.message).toContain('--vmid 999: no such guest');
    expect(e.message).toContain('offline, not searched: home/pve3');
  });

  it('a --vmid on another node than --node names where the guest is', () => {
    const e = throws(() => planRun(config(), [TWO_NODES], { nodes: ['pve2'], vmids: [101] }));
    expect(e.message).toBe('--vmid 101 is on node pve1 (cluster home), not on --node pve2');
  });

  it('an explicit --vmid of a type outside backup.types is refused', () => {
    const e = throws(() => planRun(config(), [TWO_NODES], { nodes: [], vmids: [100] }));
    expect(e.message).toContain('--vmid 100 on node pve1 (cluster home) is of type qemu');
  });

  it('checks only the versions of clusters it plans', () => {
    const old = inv(
      [{ node: 'old1', online: true, guests: [g(300, 'running', { type: 'openvz' })] }],
      '3.4',
      'lab',
    );
    const cfg = config({}, [{ name: 'home' }, { ...TICKET[0]!, name: 'lab' }]);
    expect(ids(planRun(cfg, [TWO_NODES, old], { nodes: ['pve2'], vmids: [] }))).toEqual({
      pve2: [201],
    });
    throws(() => planRun(cfg, [TWO_NODES, old], { nodes: [], vmids: [] }));
  });

  it('an unknown --node or --vmid is not a usage error while a configured cluster could not be read', () => {
    const cfg = config({}, [{ name: 'home' }, { name: 'down' }]);
    expect(planRun(cfg, [TWO_NODES], { nodes: ['d1'], vmids: [] })).toEqual([]);
    expect(planRun(cfg, [TWO_NODES], { nodes: [], vmids: [999] })).toEqual([]);
    // A guest found on a node other than --node is still an error.
    throws(() => planRun(cfg, [TWO_NODES], { nodes: ['pve2'], vmids: [101] }));
  });
});
