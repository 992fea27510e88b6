/**
 * The client against a simulator serving answers no PVE would give (issue #8
 * §4), over real HTTPS: nothing it could not have sent reaches a request path,
 * and every path segment goes out percent-encoded. Also the lost vzdump answer
 * whose task already finished (issue #8 §6): it is found among finished tasks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PveClient } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import type { SimFlavour } from '../../../src/sim/scenario.js';
import { captureLogger, clientFor, start, waitStopped } from './support.js';

let sim: PveSimulator | undefined;
let client: PveClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.idle();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

const hostile = {
  nodeRows: [{ node: '../evil', status: 'online' }],
  guestRows: { pve1: [{ vmid: 7, name: 'tiny', status: 'running' }] },
  volumeRows: {
    pve1: [
      { volid: 'ftp-staging:backup/../../etc/passwd', size: 10, content: 'backup' },
      { volid: 'other:backup/vzdump-lxc-101-2024_05_01-02_00_03.tar.zst', size: 10 },
    ],
  },
};

/** Every request path as it went over the wire has no `.`/`..` segment. */
function expectNoClimbing(s: PveSimulator) {
  for (const r of s.requests) {
    expect(r.rawPath.split('/'), r.rawPath).not.toContain('..');
    expect(r.rawPath.split('/'), r.rawPath).not.toContain('.');
  }
}

describe('hostile answers', () => {
  it('a node name PVE would refuse never reaches a request path', async () => {
    sim = await start('8.4', { hostile });
    client = clientFor(sim, 'token');
    const nodes = await client.nodes();
    expect(nodes.map((n) => n.node)).toContain('../evil');
    const err = await client.listGuests('../evil', 'lxc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err)).toContain("not a valid PVE node name: '../evil'");
    await expect(client.backupContent('../evil', 'ftp-staging')).rejects.toThrow(/node name/);
    await expect(client.startVzdump('a/b', { vmid: 101, storage: 'ftp-staging' })).rejects.toThrow(
      /node name/,
    );
    expect(sim.requests.map((r) => r.path)).toEqual(['/nodes']);
    expectNoClimbing(sim);
  });

  it('volume ids that climb or name another storage are ignored; a DELETE of one is refused', async () => {
    sim = await start('8.4', { hostile });
    const { logger, lines } = captureLogger();
    client = clientFor(sim, 'token', { logger });
    expect(await client.backupContent('pve1', 'ftp-staging')).toEqual([]);
    expect(lines.filter((l) => l.includes('invalid volume id'))).toHaveLength(2);
    await expect(
      client.deleteVolume('pve1', 'ftp-staging', 'ftp-staging:backup/../../etc/passwd'),
    ).rejects.toThrow(/not a backup volume of storage ftp-staging/);
    expect(sim.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('a vzdump answer that is no UPID starts nothing and comes back escaped', async () => {
    sim = await start('8.4', { hostile: { vzdumpAnswer: 'UPID:../evil:x\n\u001b[31m' } });
    client = clientFor(sim, 'token');
    const res = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    expect(res).toEqual({ upid: undefined, answer: 'UPID:../evil:x\\x0a\\x1b[31m' });
  });

  it.each(['8.4', '3.4'] as const)(
    'every path segment goes out percent-encoded: UPIDs and volume ids (%s)',
    async (flavour: SimFlavour) => {
      sim = await start(flavour, { backupDurationMs: 50 });
      client = clientFor(sim, flavour === '3.4' ? 'ticket' : 'token');
      const ct = flavour === '3.4' ? 'openvz' : 'lxc';
      expect((await client.listGuests('pve1', ct)).length).toBeGreaterThan(0);
      const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
      if (!upid) throw new Error('no task started');
      await waitStopped(client, 'pve1', upid);
      const [volume] = await client.backupContent('pve1', 'ftp-staging');
      if (!volume) throw new Error('no archive listed');
      await client.deleteVolume('pve1', 'ftp-staging', volume.volid);
      const status = sim.requests.find((r) => r.path.endsWith('/status'));
      expect(status?.rawPath).toBe(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
      expect(status?.rawPath).not.toMatch(/UPID:/);
      const del = sim.requests.find((r) => r.method === 'DELETE');
      expect(del?.rawPath).toBe(
        `/nodes/pve1/storage/ftp-staging/content/${encodeURIComponent(volume.volid)}`,
      );
      expect(del?.rawPath.split('/')).toHaveLength(7);
      expectNoClimbing(sim);
    },
  );
});

describe('a lost vzdump answer whose task already ended', () => {
  it.each([
    ['8.4', 'token'],
    ['3.4', 'ticket'],
  ] as const)(
    'is found among the finished tasks and its UPID returned, with one POST (%s)',
    async (flavour, auth) => {
      // The task lists answer late: by then the short task has ended.
      const slow = [/^\/nodes\/pve1\/tasks$/, /^\/cluster\/tasks$/].map((path) => ({
        path,
        delayMs: 1500,
      }));
      sim = await start(flavour, { backupDurationMs: 10, faults: { slow } });
      client = clientFor(sim, auth);
      sim.addFault({
        method: 'POST',
        path: '/nodes/pve1/vzdump',
        status: 200,
        count: 1,
        kind: 'drop-answer',
      });
      const res = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
      const tasks = sim.tasks();
      expect(tasks).toHaveLength(1);
      expect(res.upid).toBe(tasks[0]?.upid);
      expect((await client.taskStatus('pve1', res.upid ?? '')).status).toBe('stopped');
      expect(
        sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/vzdump')),
      ).toHaveLength(1);
    },
  );
});
