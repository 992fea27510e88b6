/**
 * The simulator's restore endpoints (docs/pve-facts.md#restore): a restore
 * reads the archive back and leaves the guest with the stored config; the
 * refusals PVE makes before forking are HTTP errors, a corrupt archive fails
 * the task; per release (LXC and QEMU on 9.1, OpenVZ on 3.4).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveBasename, writeArchive } from '../../../src/sim/archive.js';
import {
  type GuestType,
  type SimGuest,
  type SimOptions,
  startSimulator,
} from '../../../src/sim/index.js';
import { client, taskLog, waitTask } from './helpers.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const TOKEN = { id: 'root@pam!ci', secret: 'sec' };
const LIMITED = { id: 'ops@pve!restore', secret: 'sec2' };

async function setup(
  flavour: SimOptions['flavour'],
  guests: SimGuest[],
  extra: Partial<SimOptions> = {},
) {
  const sim = await startSimulator({
    flavour,
    users: [{ userid: 'root@pam', password: 'pw' }],
    tokens: [TOKEN, LIMITED],
    authFailureDelayMs: 0,
    nodes: [
      { name: 'pve1', guests },
      { name: 'pve2', guests: [] },
    ],
    ...extra,
  });
  const c = client(sim);
  cleanups.push(async () => {
    await c.close();
    await sim.close();
  });
  let auth: { token?: string; ticket?: string; csrf?: string } = {
    token: `${TOKEN.id}=${TOKEN.secret}`,
  };
  if (flavour === '3.4') {
    const login = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'pw' },
    });
    const d = login.json.data as { ticket: string; CSRFPreventionToken: string };
    auth = { ticket: d.ticket, csrf: d.CSRFPreventionToken };
  }
  return { sim, c, auth };
}

/** Restore tasks pve1 ran or runs (PVE's task list, finished and active). */
async function restoreTasks(c: ReturnType<typeof client>, auth: Record<string, string>) {
  const a = await c.call('GET', '/nodes/pve1/tasks', { ...auth, query: { source: 'all' } });
  return (a.json.data as { type: string }[]).filter((t) => /restore$/.test(t.type));
}

/** A real archive of `vmid` in the node's dump dir; returns its file name. */
async function backup(
  dumpDir: string,
  type: GuestType,
  vmid: number,
  ext: string,
): Promise<string> {
  const base = archiveBasename(type, vmid, new Date(2026, 10, 30, 2, 0, 5));
  await writeArchive(dumpDir, base, ext, vmid, 200_000);
  return `${base}.${ext}`;
}

const ct = (vmid: number, status: SimGuest['status'] = 'running', lock?: string): SimGuest => ({
  vmid,
  type: 'lxc',
  name: `guest${vmid}`,
  status,
  archiveSize: 200_000,
  ...(lock ? { lock } : {}),
});

describe('restore on 9.1', () => {
  it('restores an LXC backup to a new vmid: vzrestore task, guest stopped with the stored config', async () => {
    const { sim, c, auth } = await setup('9.1', [ct(101)]);
    const file = await backup(sim.dumpDir('pve1'), 'lxc', 101, 'tar.zst');
    const post = await c.call('POST', '/nodes/pve1/lxc', {
      ...auth,
      form: { vmid: '200', restore: '1', ostemplate: `ftp-staging:backup/${file}` },
    });
    expect(post.status, post.reason).toBe(200);
    const upid = post.json.data as string;
    expect(upid).toMatch(/:vzrestore:200:root@pam!ci:$/);
    // The new guest exists, locked, while the task runs.
    expect(sim.guest(200)?.guest.lock).toBe('create');
    const end = await waitTask(c.call, 'pve1', upid, auth);
    expect(end.exitstatus).toBe('OK');
    const log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log).toContain(`restoring 'ftp-staging:backup/${file}' now..`);
    const restored = sim.guest(200);
    expect(restored?.node).toBe('pve1');
    expect(restored?.guest).toMatchObject({ type: 'lxc', status: 'stopped', name: 'ct101' });
    expect(restored?.guest.lock).toBeUndefined();
    expect(restored?.guest.config).toContain('hostname: ct101\n');
    expect(restored?.guest.config).toContain('rootfs: local-lvm:vm-101-disk-0,size=8G');
    // It is listed like any other guest.
    const list = await c.call('GET', '/nodes/pve1/lxc', auth);
    expect((list.json.data as { vmid: number }[]).map((g) => g.vmid).sort()).toEqual([101, 200]);
  });

  it('refuses before any task: an existing vmid without force, on another node, running, locked', async () => {
    const { sim, c, auth } = await setup('9.1', [ct(101), ct(102, 'stopped', 'backup')]);
    const file = await backup(sim.dumpDir('pve1'), 'lxc', 101, 'tar.zst');
    const post = (node: string, form: Record<string, string>) =>
      c.call('POST', `/nodes/${node}/lxc`, {
        ...auth,
        form: { restore: '1', ostemplate: `ftp-staging:backup/${file}`, ...form },
      });
    const exists = await post('pve1', { vmid: '101' });
    expect(exists.status).toBe(500);
    expect(exists.reason).toBe("CT 101 already exists on node 'pve1'");
    // force is honoured only for a guest on this node.
    const elsewhere = await post('pve2', { vmid: '101', force: '1' });
    expect(elsewhere.reason).toBe("CT 101 already exists on node 'pve1'");
    const running = await post('pve1', { vmid: '101', force: '1' });
    expect(running.status).toBe(500);
    expect(running.reason).toBe("can't overwrite running container");
    const locked = await post('pve1', { vmid: '102', force: '1' });
    expect(locked.reason).toBe('CT is locked (backup)');
    expect(await restoreTasks(c, auth)).toEqual([]);
    expect(sim.guest(101)?.guest).toMatchObject({ status: 'running', name: 'guest101' });
  });

  it('overwrites a stopped guest on the same node with force', async () => {
    const { sim, c, auth } = await setup('9.1', [ct(101, 'stopped')]);
    const file = await backup(sim.dumpDir('pve1'), 'lxc', 101, 'tar.gz');
    const post = await c.call('POST', '/nodes/pve1/lxc', {
      ...auth,
      form: { vmid: '101', restore: '1', force: '1', ostemplate: `ftp-staging:backup/${file}` },
    });
    expect(post.status, post.reason).toBe(200);
    expect((await waitTask(c.call, 'pve1', post.json.data as string, auth)).exitstatus).toBe('OK');
    expect(sim.guest(101)?.guest).toMatchObject({ name: 'ct101', status: 'stopped' });
  });

  it('answers 403 to a token without VM.Allocate, and without access to another guest’s backup', async () => {
    const { sim, c } = await setup('9.1', [ct(101)], {
      access: {
        acl: {
          [LIMITED.id]: {
            '/vms/300': ['VM.Allocate'],
            '/vms/301': ['VM.Allocate'],
            '/storage/ftp-staging': ['Datastore.AllocateSpace'],
            '/storage/local': ['Datastore.AllocateSpace'],
          },
        },
      },
    });
    const file = await backup(sim.dumpDir('pve1'), 'lxc', 101, 'tar.zst');
    const auth = { token: `${LIMITED.id}=${LIMITED.secret}` };
    const post = (vmid: string) =>
      c.call('POST', '/nodes/pve1/lxc', {
        ...auth,
        form: { vmid, restore: '1', ostemplate: `ftp-staging:backup/${file}` },
      });
    const noAllocate = await post('200');
    expect(noAllocate.status).toBe(403);
    expect(noAllocate.reason).toBe('Permission check failed (/vms/200, VM.Allocate)');
    // Another guest's backup needs VM.Backup on its owner (check_volume_access).
    const notOwner = await post('300');
    expect(notOwner.status).toBe(403);
    expect(notOwner.reason).toBe('Permission check failed (/vms/101, VM.Backup)');
    expect(await restoreTasks(c, { token: `${TOKEN.id}=${TOKEN.secret}` })).toEqual([]);
    expect(sim.guest(300)).toBeUndefined();
  });

  it('fails the task on a corrupt archive and leaves no guest behind', async () => {
    const { sim, c, auth } = await setup('9.1', [ct(101)]);
    const file = await backup(sim.dumpDir('pve1'), 'lxc', 101, 'tar.zst');
    const fh = await open(path.join(sim.dumpDir('pve1'), file), 'r+');
    const mid = Buffer.alloc(1);
    await fh.read(mid, 0, 1, 100_000);
    await fh.write(Buffer.from([mid[0]! ^ 0xff]), 0, 1, 100_000);
    await fh.close();
    const post = await c.call('POST', '/nodes/pve1/lxc', {
      ...auth,
      form: { vmid: '200', restore: '1', ostemplate: `ftp-staging:backup/${file}` },
    });
    const upid = post.json.data as string;
    const end = await waitTask(c.call, 'pve1', upid, auth);
    expect(String(end.exitstatus)).toMatch(
      /^unable to restore CT 200 - command '.*' failed: exit code 2$/,
    );
    const log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log.some((l) => l.startsWith('ERROR: '))).toBe(true);
    expect(sim.guest(200)).toBeUndefined();
  });

  it('restores a QEMU backup through /qemu (archive=): qmrestore, the VM named from its config', async () => {
    const { sim, c, auth } = await setup('9.1', [ct(101)]);
    const file = await backup(sim.dumpDir('pve1'), 'qemu', 105, 'vma.zst');
    const post = await c.call('POST', '/nodes/pve1/qemu', {
      ...auth,
      form: { vmid: '205', archive: `ftp-staging:backup/${file}`, storage: 'local' },
    });
    expect(post.status, post.reason).toBe(200);
    const upid = post.json.data as string;
    expect(upid).toMatch(/:qmrestore:205:/);
    expect((await waitTask(c.call, 'pve1', upid, auth)).exitstatus).toBe('OK');
    expect(sim.guest(205)?.guest).toMatchObject({ type: 'qemu', name: 'vm105' });
    expect(sim.guest(205)?.guest.config).toContain('scsi0: local-lvm:vm-105-disk-0,size=32G');
  });
});

describe('QEMU force over a running VM', () => {
  it('fails inside the task on 9.1 (qemu-server >= 5.0-29), not the call; the VM stays as it was', async () => {
    const vm: SimGuest = {
      vmid: 105,
      type: 'qemu',
      name: 'win',
      status: 'running',
      archiveSize: 200_000,
    };
    const { sim, c, auth } = await setup('9.1', [vm]);
    const file = await backup(sim.dumpDir('pve1'), 'qemu', 105, 'vma.zst');
    const post = await c.call('POST', '/nodes/pve1/qemu', {
      ...auth,
      form: { vmid: '105', archive: `ftp-staging:backup/${file}`, force: '1' },
    });
    expect(post.status, post.reason).toBe(200);
    const end = await waitTask(c.call, 'pve1', post.json.data as string, auth);
    expect(end.exitstatus).toBe('unable to restore vm 105 - vm is running');
    expect(sim.guest(105)?.guest).toEqual(vm);
  });
});

describe('restore on 3.4 (OpenVZ)', () => {
  it('restores through /openvz; /lxc does not exist; an existing CT is refused', async () => {
    const guest: SimGuest = { vmid: 101, type: 'openvz', status: 'running', archiveSize: 200_000 };
    const { sim, c, auth } = await setup('3.4', [guest]);
    const file = await backup(sim.dumpDir('pve1'), 'openvz', 101, 'tar.lzo');
    const form = { vmid: '150', restore: '1', ostemplate: `ftp-staging:backup/${file}` };
    expect((await c.call('POST', '/nodes/pve1/lxc', { ...auth, form })).status).toBe(501);
    const exists = await c.call('POST', '/nodes/pve1/openvz', {
      ...auth,
      form: { ...form, vmid: '101' },
    });
    expect(exists.reason).toBe('CT 101 already exists');
    const post = await c.call('POST', '/nodes/pve1/openvz', { ...auth, form });
    expect(post.status, post.reason).toBe(200);
    const upid = post.json.data as string;
    expect(upid).toMatch(/:vzrestore:150:root@pam:$/);
    expect((await waitTask(c.call, 'pve1', upid, auth)).exitstatus).toBe('OK');
    expect(sim.guest(150)?.guest).toMatchObject({ type: 'openvz', name: 'ct101' });
    expect(sim.guest(150)?.guest.config).toContain('HOSTNAME="ct101"');
  });
});
