/**
 * The target checks of a restore (src/restore/target.ts) against a fake
 * cluster: every refusal is a ConfigError (exit 2) naming the guest and where
 * it is, made before anything is written; the endpoint follows archive type
 * and PVE version.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/index.js';
import { ConfigError, PreflightError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { PveClient } from '../../../src/pveApi/index.js';
import { resolveTarget, restoreEndpoint } from '../../../src/restore/target.js';
import { ENV, VALID } from '../config/helpers.js';

interface FakeGuest {
  vmid: number;
  node: string;
  type: 'lxc' | 'qemu' | 'openvz';
  status: string;
  name?: string;
  lock?: string;
}

function fakeCluster(major: number, guests: FakeGuest[], offline: string[] = []) {
  const closed: string[] = [];
  const create = () =>
    ({
      version: async () => ({ version: `${major}.1.2`, release: `${major}.1`, major }),
      nodes: async () =>
        ['pve1', 'pve2'].map((node) => ({
          node,
          status: offline.includes(node) ? ('offline' as const) : ('online' as const),
        })),
      clusterResources: async () =>
        guests.map((g) => ({
          vmid: g.vmid,
          node: g.node,
          type: g.type,
          status: g.status,
          template: false,
          ...(g.name ? { name: g.name } : {}),
        })),
      listGuests: async (node: string, type: string) =>
        guests
          .filter((g) => g.node === node && g.type === type)
          .map((g) => ({
            vmid: g.vmid,
            type: g.type,
            status: g.status,
            template: false,
            ...(g.lock ? { lock: g.lock } : {}),
          })),
      close: async () => {
        closed.push('closed');
      },
      secrets: () => [],
    }) as unknown as PveClient;
  return { create, closed };
}

async function resolve(
  cluster: ReturnType<typeof fakeCluster>,
  r: Partial<Parameters<typeof resolveTarget>[1]>,
) {
  const { config } = await parseConfigText(VALID, '/c.yaml', ENV);
  return resolveTarget(
    config,
    { toNode: 'pve1', toVmid: 101, archiveType: 'lxc', force: false, ...r },
    { logger: silentLogger(), createClient: cluster.create },
  );
}

const web: FakeGuest = { vmid: 101, node: 'pve1', type: 'lxc', status: 'stopped', name: 'web' };

describe('resolveTarget', () => {
  it('accepts a free vmid and picks the endpoint', async () => {
    const c = fakeCluster(9, [web]);
    const { target } = await resolve(c, { toVmid: 200 });
    expect(target).toEqual({
      cluster: 'home',
      pveVersion: '9.1.2',
      node: 'pve1',
      vmid: 200,
      type: 'lxc',
    });
  });

  it.each([
    [{}, [web], "guest 101 (lxc 'web' on node pve1) exists: not overwritten"],
    [{ force: true, toNode: 'pve2' }, [web], 'is not on the target node pve2'],
    [{ force: true }, [{ ...web, type: 'qemu' as const }], 'is not a lxc guest'],
    [
      { force: true },
      [{ ...web, lock: 'backup' }],
      'is locked (backup): a restore never overwrites it',
    ],
    [
      { force: true },
      [{ ...web, status: 'running' }],
      'is running: a restore never overwrites a guest that is not stopped',
    ],
  ])('refuses %j with exit 2', async (r, guests, message) => {
    const c = fakeCluster(9, guests);
    const error = await resolve(c, r).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect(c.closed).toEqual(['closed']);
  });

  it('lets --force overwrite a stopped, unlocked guest of the same type on the target node', async () => {
    const { target } = await resolve(fakeCluster(9, [web]), { force: true });
    expect(target.overwrites).toEqual({ type: 'lxc', name: 'web' });
  });

  it('names a node no cluster has (exit 2) and an offline one (exit 3)', async () => {
    await expect(resolve(fakeCluster(9, []), { toNode: 'pve9' })).rejects.toThrow(
      new ConfigError('node pve9 is not a node of any configured cluster'),
    );
    await expect(resolve(fakeCluster(9, [], ['pve2']), { toNode: 'pve2' })).rejects.toBeInstanceOf(
      PreflightError,
    );
  });

  it('refuses an LXC backup on PVE 3.x', async () => {
    await expect(resolve(fakeCluster(3, []), { toVmid: 200 })).rejects.toThrow(
      'an LXC backup cannot be restored on PVE 3.x (OpenVZ only)',
    );
  });
});

describe('restoreEndpoint', () => {
  it('sends OpenVZ backups to /lxc from PVE 4 (PVE converts them) and to /openvz before', () => {
    expect(restoreEndpoint('openvz', 3)).toBe('openvz');
    expect(restoreEndpoint('openvz', 4)).toBe('lxc');
    expect(restoreEndpoint('lxc', 8)).toBe('lxc');
    expect(restoreEndpoint('qemu', 3)).toBe('qemu');
  });
});
