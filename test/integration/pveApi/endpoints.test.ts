import { afterEach, describe, expect, it } from 'vitest';
import { PveApiError, type PveClient, taskOutcome } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { type ClientAuth, clientFor, ctType, start, waitStopped } from './support.js';

const flavours = [
  { flavour: '3.4' as const, auth: 'ticket' as ClientAuth, major: 3 },
  { flavour: '8.4' as const, auth: 'token' as ClientAuth, major: 8 },
  { flavour: '9.1' as const, auth: 'ticket' as ClientAuth, major: 9 },
];

describe.each(flavours)(
  'every endpoint on PVE $flavour ($auth auth)',
  ({ flavour, auth, major }) => {
    let sim: PveSimulator | undefined;
    let client: PveClient | undefined;
    afterEach(async () => {
      await client?.close();
      await sim?.close();
      client = undefined;
      sim = undefined;
    });

    it('reads version, nodes, resources and guest lists', async () => {
      sim = await start(flavour);
      client = clientFor(sim, auth);
      const v = await client.version();
      expect(v.major).toBe(major);
      expect(await client.nodes()).toEqual(
        expect.arrayContaining([
          { node: 'pve1', status: 'online' },
          { node: 'pve2', status: 'online' },
        ]),
      );
      const res = await client.clusterResources();
      expect(res.map((r) => [r.vmid, r.node, r.type]).sort()).toEqual(
        [
          [101, 'pve1', ctType(flavour)],
          [102, 'pve1', ctType(flavour)],
          [200, 'pve1', 'qemu'],
          [301, 'pve2', ctType(flavour)],
        ].sort(),
      );
      const cts = await client.listGuests('pve1', ctType(flavour));
      expect(cts.map((g) => [g.vmid, g.type, g.status, g.template])).toEqual(
        expect.arrayContaining([
          [101, ctType(flavour), 'running', false],
          [102, ctType(flavour), 'stopped', false],
        ]),
      );
      // OpenVZ lists (3.x) carry no `lock` field; LXC lists do.
      expect(cts.find((g) => g.vmid === 102)?.lock).toBe(
        flavour === '3.4' ? undefined : 'snapshot',
      );
      expect((await client.listGuests('pve1', 'qemu')).map((g) => g.vmid)).toEqual([200]);
      // The other container API does not exist on this version: 501, not retried.
      const other = flavour === '3.4' ? 'lxc' : 'openvz';
      const before = sim.requests.length;
      const err = await client.listGuests('pve1', other).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PveApiError);
      expect((err as PveApiError).status).toBe(501);
      // the text comes from the reason phrase (3.4) or the body `message` (8.4+)
      expect((err as PveApiError).pveMessage).toMatch(/not implemented/);
      expect(sim.requests.length - before).toBe(1);
    });

    it('starts vzdump, sees it active, follows status and log, lists and deletes the archive', async () => {
      sim = await start(flavour, { backupDurationMs: 600 });
      client = clientFor(sim, auth);
      const started = await client.startVzdump('pve1', {
        vmid: 101,
        storage: 'ftp-staging',
        mode: 'snapshot',
        remove: 0,
      });
      if (!started.upid) throw new Error('expected a UPID');
      const upid = started.upid;
      const post = sim.requests.find((r) => r.method === 'POST' && r.path === '/nodes/pve1/vzdump');
      expect(post?.body).toMatchObject({
        vmid: '101',
        storage: 'ftp-staging',
        mode: 'snapshot',
        remove: '0',
      });
      expect(String(post?.headers['content-type'])).toMatch(/^application\/x-www-form-urlencoded/);
      expect(post?.headers['content-length']).toBeDefined();

      const active = await client.activeTasks('pve1', { vmid: 101, type: 'vzdump' });
      expect(active.map((t) => t.upid)).toEqual([upid]);
      expect((await client.taskStatus('pve1', upid)).status).toBe('running');

      const done = await waitStopped(client, 'pve1', upid);
      expect(done.upid).toBe(upid);
      // page through the log three lines at a time: start = last n
      const log: string[] = [];
      let offset = 0;
      for (let i = 0; i < 100; i++) {
        const page = await client.taskLog('pve1', upid, offset, 3);
        if (page.lines.length === 0) break;
        expect(page.lines[0]?.n).toBe(offset + 1);
        log.push(...page.lines.map((l) => l.t));
        offset = page.lines.at(-1)?.n ?? offset;
        if (offset >= page.total) break;
      }
      expect(log.at(-1)).toBe('TASK OK');
      expect(taskOutcome(done.exitstatus ?? '', log)).toEqual({
        ok: true,
        warnings: 0,
        errors: [],
      });
      expect(await client.activeTasks('pve1', { vmid: 101, type: 'vzdump' })).toEqual([]);

      const vols = await client.backupContent('pve1', 'ftp-staging');
      const archive = vols.find((v) => v.volid.includes('-101-'));
      expect(archive?.size).toBe(4096);
      expect(archive?.volid).toMatch(
        new RegExp(`^ftp-staging:backup/vzdump-${ctType(flavour)}-101-`),
      );
      const del = await client.deleteVolume('pve1', 'ftp-staging', archive!.volid);
      if (major >= 6) {
        expect(del.upid).toMatch(/^UPID:pve1:/);
        expect((await waitStopped(client, 'pve1', del.upid!)).exitstatus).toBe('OK');
      } else {
        expect(del).toEqual({});
      }
      expect(
        (await client.backupContent('pve1', 'ftp-staging')).some((v) => v.volid === archive!.volid),
      ).toBe(false);
    });

    it('stops a running task', async () => {
      sim = await start(flavour, { backupDurationMs: 5000 });
      client = clientFor(sim, auth);
      const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
      if (!upid) throw new Error('expected a UPID');
      await client.stopTask('pve1', upid);
      const s = await waitStopped(client, 'pve1', upid);
      expect(s.exitstatus).not.toBe('OK');
      expect(taskOutcome(s.exitstatus ?? '', []).ok).toBe(false);
    });

    it('rejects a limit of 0 and a malformed UPID before sending anything', async () => {
      sim = await start(flavour);
      client = clientFor(sim, auth);
      const upid = 'UPID:pve1:00001234:00005678:6179A779:vzdump:101:root@pam:';
      await expect(client.taskLog('pve1', upid, 0, 0)).rejects.toThrow(RangeError);
      await expect(client.taskStatus('pve1', 'UPID:../../x')).rejects.toThrow(/UPID/);
      expect(sim.requests).toHaveLength(0);
    });
  },
);
