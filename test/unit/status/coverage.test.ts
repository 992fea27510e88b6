import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import type { GenerationInfo } from '../../../src/ftp/generations.js';
import type { ClusterInventory } from '../../../src/orchestrator/plan.js';
import { type CoverageInput, coverage, uncovered } from '../../../src/status/coverage.js';

const now = new Date('2026-12-04T08:00:00Z');
const hours = (h: number) => new Date(now.getTime() - h * 3600_000).toISOString();

const config = {
  clusters: [{ name: 'home' }, { name: 'lab' }],
  backup: {
    guests: 'running',
    types: ['lxc', 'openvz'],
    exclude: [109],
  },
} as unknown as Pick<Config, 'clusters' | 'backup'>;

const guest = (vmid: number, status = 'running', extra: Record<string, unknown> = {}) => ({
  vmid,
  type: 'lxc' as const,
  name: `ct${vmid}`,
  status,
  template: false,
  ...extra,
});

const inventory: ClusterInventory[] = [
  {
    cluster: 'home',
    pveVersion: '9.1.1',
    pveMajor: 9,
    nodes: [
      {
        node: 'pve1',
        online: true,
        guests: [
          guest(101),
          guest(102),
          guest(103),
          guest(104, 'stopped'),
          guest(105, 'running', { template: true }),
          guest(106, 'running', { type: 'qemu' }),
          guest(109),
        ],
      },
      { node: 'pve2', online: true, guests: [guest(201)] },
    ],
  },
];

function gen(
  name: string,
  finishedAt: string,
  guests: { vmid: number; status?: 'saved' | 'failed'; size?: number; sha?: boolean }[],
  cluster = 'home',
): GenerationInfo {
  return {
    name,
    incomplete: false,
    manifest: {
      runId: name,
      node: '',
      cluster,
      startedAt: finishedAt,
      finishedAt,
      guests: guests.map((g) => ({
        vmid: g.vmid,
        type: 'lxc',
        name: `ct${g.vmid}`,
        status: g.status ?? 'saved',
        durationMs: 30_000,
        ...(g.sha ? { sha256: true } : {}),
      })),
    },
    files: guests.flatMap((g) => [
      { name: `vzdump-lxc-${g.vmid}-x.tar.zst`, size: g.size ?? 1000 },
      { name: `vzdump-lxc-${g.vmid}-x.log`, size: 10 },
    ]),
    totalSize: 0,
  };
}

const input = (over: Partial<CoverageInput> = {}): CoverageInput => ({
  config,
  inventory,
  unreadClusters: [],
  trees: [
    {
      node: 'pve1',
      generations: [
        gen('daily.0', hours(6), [
          { vmid: 101, size: 2000, sha: true },
          { vmid: 102, status: 'failed' },
        ]),
        gen('daily.1', hours(30), [{ vmid: 101, size: 1500 }, { vmid: 102 }, { vmid: 150 }]),
      ],
    },
    // 201 migrated from pve1's tree view: its copy lives under pve3's tree (node gone).
    { node: 'pve3', generations: [gen('daily.0', hours(2), [{ vmid: 201 }, { vmid: 301 }])] },
  ],
  filters: { nodes: [], vmids: [] },
  now,
  maxAgeSeconds: 26 * 3600,
  ...over,
});

describe('coverage', () => {
  it('gives each guest its verdict and its newest saved copy', () => {
    const rows = coverage(input());
    const byVmid = new Map(rows.map((r) => [r.vmid, r]));
    expect(byVmid.get(101)).toMatchObject({
      verdict: 'ok',
      copies: 2,
      newest: { generation: 'daily.0', size: 2000, hasSha256: true, ageSeconds: 6 * 3600 },
    });
    expect(byVmid.get(101)?.history.map((h) => h.size)).toEqual([2000, 1500]);
    // Failed last night: the newest SAVED copy is 30 h old.
    expect(byVmid.get(102)).toMatchObject({
      verdict: 'stale',
      copies: 1,
      newest: { generation: 'daily.1' },
    });
    expect(byVmid.get(103)).toMatchObject({ verdict: 'missing', newest: null, copies: 0 });
    expect(byVmid.get(104)).toMatchObject({
      verdict: 'unselected',
      reason: expect.stringMatching(/stopped/),
    });
    expect(byVmid.get(106)).toMatchObject({
      verdict: 'unselected',
      reason: expect.stringMatching(/qemu/),
    });
    expect(byVmid.get(109)).toMatchObject({
      verdict: 'unselected',
      reason: expect.stringMatching(/exclude/),
    });
    expect(byVmid.has(105)).toBe(false);
    // 201 is found under another node's tree; 150 and 301 are no longer in the cluster.
    expect(byVmid.get(201)).toMatchObject({
      verdict: 'ok',
      node: 'pve2',
      newest: { node: 'pve3' },
    });
    expect(byVmid.get(150)).toMatchObject({ verdict: 'gone', state: 'absent', node: 'pve1' });
    expect(byVmid.get(301)).toMatchObject({ verdict: 'gone', node: 'pve3' });
    expect(uncovered(rows).map((r) => r.vmid)).toEqual([102, 103]);
  });

  it('selects like run: --guests, --node and --vmid', () => {
    const all = coverage(input({ filters: { nodes: [], vmids: [], guests: 'all' } }));
    expect(all.find((r) => r.vmid === 104)?.verdict).toBe('missing');
    const one = coverage(
      input({ filters: { nodes: ['pve1'], vmids: [101, 150], guests: undefined } }),
    );
    expect(one.map((r) => r.vmid)).toEqual([101, 150]);
  });

  it('never calls a guest gone when its cluster could not be read: judged by age, state unknown', () => {
    const rows = coverage(input({ inventory: [], unreadClusters: ['home'] }));
    expect(rows.filter((r) => r.verdict === 'gone')).toEqual([]);
    expect(rows.find((r) => r.vmid === 101)).toMatchObject({ verdict: 'ok', state: 'unknown' });
    expect(rows.find((r) => r.vmid === 102)).toMatchObject({ verdict: 'stale', state: 'unknown' });
  });

  it('uses maxAge as the line between ok and stale', () => {
    const rows = coverage(input({ maxAgeSeconds: 5 * 3600 }));
    expect(rows.find((r) => r.vmid === 101)?.verdict).toBe('stale');
    expect(rows.find((r) => r.vmid === 201)?.verdict).toBe('ok');
  });
});
