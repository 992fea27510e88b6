/**
 * The simulator's preflight endpoints over real HTTPS, per release:
 * /access/permissions (8.4/9.1 only), /storage and /storage/{id} (maxfiles raw
 * on 3.4, converted on 8.4, gone on 9.1), storage status of a disabled storage
 * (400 on 3.4, enabled:0 later) and /vzdump/defaults (8.4/9.1; `script` hidden
 * without Sys.Audit on the node).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type SimAccess, type SimFlavour, startSimulator } from '../../../src/sim/index.js';
import { client } from './helpers.js';

const ROOT = { token: 'root@pam!ci=sec' };
const LIMITED = { token: 'backup@pve!nightly=sec2' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(flavour: SimFlavour, access: SimAccess = {}) {
  const sim = await startSimulator({
    flavour,
    tokens: [
      { id: 'root@pam!ci', secret: 'sec' },
      { id: 'backup@pve!nightly', secret: 'sec2' },
    ],
    users: [{ userid: 'root@pam', password: 'pw' }],
    authFailureDelayMs: 0,
    nodes: [
      {
        name: 'pve1',
        guests: [],
        storages: [
          { id: 'local', backup: true },
          { id: 'ftp-staging', backup: true },
          { id: 'old', backup: true },
        ],
        vzdumpConf: { script: '/usr/local/bin/pve-ftp-backup-hook' },
      },
    ],
    access,
  });
  const c = client(sim);
  cleanups.push(async () => {
    await c.close();
    await sim.close();
  });
  return c;
}

async function ticket(c: Awaited<ReturnType<typeof setup>>) {
  const login = await c.call('POST', '/access/ticket', {
    form: { username: 'root@pam', password: 'pw' },
  });
  return { ticket: (login.json.data as { ticket: string }).ticket };
}

const limitedAcl: SimAccess = {
  acl: {
    'backup@pve!nightly': {
      '/vms/101': ['VM.Backup'],
      '/storage/ftp-staging': ['Datastore.AllocateSpace'],
    },
  },
  storageConfig: {
    'ftp-staging': { pruneBackups: 'keep-last=1' },
    old: { maxfiles: 2, disable: true },
  },
};

describe.each(['8.4', '9.1'] as const)('PVE %s preflight answers', (flavour) => {
  it('/access/permissions: the tree with ACL paths, a path resolved by inheritance', async () => {
    const c = await setup(flavour, limitedAcl);
    const tree = await c.call('GET', '/access/permissions', LIMITED);
    expect(tree.status).toBe(200);
    const data = tree.json.data as Record<string, Record<string, number>>;
    expect(data['/vms']).toEqual({});
    expect(data['/vms/101']).toEqual({ 'VM.Backup': 1 });
    const one = await c.call('GET', '/access/permissions', {
      ...LIMITED,
      query: { path: '/storage/ftp-staging' },
    });
    expect(one.json.data).toEqual({ '/storage/ftp-staging': { 'Datastore.AllocateSpace': 1 } });
    // Another user's permissions need Sys.Audit on /access.
    const other = await c.call('GET', '/access/permissions', {
      ...LIMITED,
      query: { userid: 'root@pam' },
    });
    expect(other.status).toBe(403);
    // Without ACLs (root's token): everything.
    const root = await c.call('GET', '/access/permissions', { ...ROOT, query: { path: '/vms' } });
    expect((root.json.data as Record<string, object>)['/vms']).toHaveProperty('VM.Backup');
  });

  it('/storage lists what Audit/AllocateSpace allows; /storage/{id} needs Datastore.Allocate', async () => {
    const c = await setup(flavour, limitedAcl);
    const list = await c.call('GET', '/storage', LIMITED);
    expect((list.json.data as { storage: string }[]).map((s) => s.storage)).toEqual([
      'ftp-staging',
    ]);
    expect(list.json.data).toEqual([
      expect.objectContaining({ storage: 'ftp-staging', 'prune-backups': 'keep-last=1' }),
    ]);
    expect((await c.call('GET', '/storage/ftp-staging', LIMITED)).status).toBe(403);
    const old = await c.call('GET', '/storage/old', ROOT);
    expect(old.json.data).toMatchObject({ storage: 'old', disable: 1 });
    const converted = (old.json.data as Record<string, unknown>)['prune-backups'];
    // PS 6.2-11 converts maxfiles; 9.0.9 dropped it.
    expect(converted).toBe(flavour === '8.4' ? 'keep-last=2' : undefined);
    expect(old.json.data).not.toHaveProperty('maxfiles');
  });

  it('storage status: bytes, and enabled:0 for a disabled storage', async () => {
    const c = await setup(flavour, limitedAcl);
    const ok = await c.call('GET', '/nodes/pve1/storage/ftp-staging/status', LIMITED);
    expect(ok.json.data).toMatchObject({ enabled: 1, active: 1, avail: 412 * 1024 ** 3 });
    const off = await c.call('GET', '/nodes/pve1/storage/old/status', ROOT);
    expect(off.json.data).toMatchObject({ enabled: 0, active: 0, total: 0 });
  });

  it('vzdump/defaults: storage prune wins, script hidden without Sys.Audit on the node', async () => {
    const c = await setup(flavour, limitedAcl);
    const root = await c.call('GET', '/nodes/pve1/vzdump/defaults', {
      ...ROOT,
      query: { storage: 'ftp-staging' },
    });
    expect(root.json.data).toMatchObject({
      script: '/usr/local/bin/pve-ftp-backup-hook',
      'prune-backups': 'keep-last=1',
    });
    const limited = await c.call('GET', '/nodes/pve1/vzdump/defaults', {
      ...LIMITED,
      query: { storage: 'ftp-staging' },
    });
    expect(limited.status).toBe(200);
    expect(limited.json.data).not.toHaveProperty('script');
    expect(limited.json.data).not.toHaveProperty('dumpdir');
    const noAudit = await c.call('GET', '/nodes/pve1/vzdump/defaults', {
      ...LIMITED,
      query: { storage: 'local' },
    });
    expect(noAudit.status).toBe(403);
  });
});

describe('PVE 3.4 preflight answers', () => {
  it('has no /access/permissions and no vzdump/defaults (501)', async () => {
    const c = await setup('3.4');
    const auth = await ticket(c);
    expect((await c.call('GET', '/access/permissions', auth)).status).toBe(501);
    expect((await c.call('GET', '/nodes/pve1/vzdump/defaults', auth)).status).toBe(501);
  });

  it('returns maxfiles raw and answers 400 "No such storage." for a disabled storage', async () => {
    const c = await setup('3.4', { storageConfig: { old: { maxfiles: 2, disable: true } } });
    const auth = await ticket(c);
    const list = await c.call('GET', '/storage', auth);
    expect(list.json.data).toContainEqual(
      expect.objectContaining({ storage: 'old', maxfiles: 2, disable: 1 }),
    );
    const off = await c.call('GET', '/nodes/pve1/storage/old/status', auth);
    expect(off.status).toBe(400);
    expect(off.reason).toBe('No such storage.');
    const ok = await c.call('GET', '/nodes/pve1/storage/ftp-staging/status', auth);
    expect(ok.json.data).toMatchObject({ enabled: 1, active: 1 });
  });
});
