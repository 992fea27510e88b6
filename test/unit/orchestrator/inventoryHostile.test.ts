import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/log.js';
import { readInventory } from '../../../src/orchestrator/inventory.js';
import { planRun } from '../../../src/orchestrator/plan.js';
import type { PveClient, PveClientOptions } from '../../../src/pveApi/index.js';
import { hasControlChars } from '../../../src/pveApi/names.js';

const config: Config = {
  clusters: [
    {
      name: 'c0',
      url: 'https://127.0.0.1:8006',
      auth: { kind: 'token', tokenId: 'a@pve!b', secret: 's' },
      tls: { insecure: false },
    },
  ],
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
    guests: 'all',
    types: ['lxc'],
    exclude: [],
    storage: 'st',
    mode: 'snapshot',
    compress: 'zstd',
    parallelNodes: 2,
    uploadAt: 'log-end',
  },
  retention: { keep: 3 },
};

/** A cluster whose answers carry rows no PVE could send. */
function hostileClient() {
  const asked: string[] = [];
  const create = (o: PveClientOptions): PveClient =>
    ({
      cluster: o.cluster,
      version: async () => ({ version: '8.4.1', release: '8.4', major: 8 }),
      nodes: async () => [
        { node: '../evil', status: 'online' as const },
        { node: 'pve1', status: 'online' as const },
        { node: 'bad\nnode', status: 'online' as const },
      ],
      listGuests: async (node: string, type: string) => {
        asked.push(node);
        return [
          { vmid: 101, type, status: 'running', template: false, name: 'web\n01\u001b[31m' },
          { vmid: 7, type, status: 'running', template: false, name: 'tiny' },
          { vmid: 102, type, status: 'running', template: false, name: 'db' },
        ];
      },
      close: async () => {},
      secrets: () => [],
    }) as unknown as PveClient;
  return { asked, create };
}

describe('inventory of hostile answers', () => {
  it('skips a node whose name PVE would refuse (reported escaped, never asked about) and goes on with the others', async () => {
    const f = hostileClient();
    const inv = await readInventory(config, { logger: silentLogger(), createClient: f.create });
    expect(f.asked).toEqual(['pve1']);
    const nodes = inv.inventory[0]?.nodes ?? [];
    expect(nodes.map((n) => [n.node, n.online])).toEqual([
      ['../evil', false],
      ['bad\\x0anode', false],
      ['pve1', true],
    ]);
    expect(inv.nodeProblems.get('c0/../evil')).toMatch(/not a valid PVE node name; skipped/);
    expect(inv.nodeProblems.get('c0/bad\\x0anode')).toMatch(/'bad\\x0anode'/);
    for (const n of nodes) expect(hasControlChars(n.node)).toBe(false);
  });

  it('reports a guest whose vmid PVE would refuse as skipped on its node; escapes control characters in names', async () => {
    const f = hostileClient();
    const inv = await readInventory(config, { logger: silentLogger(), createClient: f.create });
    const pve1 = inv.inventory[0]?.nodes.find((n) => n.node === 'pve1');
    expect(pve1?.guests.map((g) => [g.vmid, g.name])).toEqual([
      [101, 'web\\x0a01\\x1b[31m'],
      [102, 'db'],
    ]);
    const plans = planRun(config, inv.inventory, { nodes: [], vmids: [] });
    const plan = plans.find((p) => p.node === 'pve1');
    expect(plan?.guests.map((g) => g.vmid)).toEqual([101, 102]);
    expect(plan?.skipped).toEqual([
      expect.objectContaining({ vmid: 7, reason: expect.stringMatching(/not a valid PVE vmid/) }),
    ]);
    expect(plans.find((p) => p.node === '../evil')?.online).toBe(false);
  });
});
