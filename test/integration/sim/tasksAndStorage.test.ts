import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type PveSimulator, type SimOptions, startSimulator } from '../../../src/sim/index.js';
import { client, recordingHook, taskLog, waitTask } from './helpers.js';

const TOKEN = { token: 'root@pam!ci=sec' };
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(options: Omit<SimOptions, 'tokens' | 'users'>) {
  const sim: PveSimulator = await startSimulator({
    tokens: [{ id: 'root@pam!ci', secret: 'sec' }],
    users: [{ userid: 'root@pam', password: 'pw' }],
    authFailureDelayMs: 0,
    backupDurationMs: 30,
    ...options,
  });
  const c = client(sim);
  cleanups.push(async () => {
    await c.close();
    await sim.close();
  });
  return { sim, c };
}

async function ticketAuth(c: ReturnType<typeof client>) {
  const login = await c.call('POST', '/access/ticket', {
    form: { username: 'root@pam', password: 'pw' },
  });
  const d = login.json.data as { ticket: string; CSRFPreventionToken: string };
  return { ticket: d.ticket, csrf: d.CSRFPreventionToken };
}

const lxc = (vmid: number, extra: object = {}) => ({
  vmid,
  type: 'lxc' as const,
  status: 'running' as const,
  archiveSize: 1000,
  ...extra,
});

describe('endpoints per flavour', () => {
  it('answers 501 for the container endpoint the flavour lacks, and types vmids per flavour', async () => {
    const { c: c9 } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [lxc(101)] }],
    });
    const openvz = await c9.call('GET', '/nodes/pve1/openvz', TOKEN);
    expect([openvz.status, openvz.reason]).toEqual([
      501,
      "Method 'GET /nodes/pve1/openvz' not implemented",
    ]);
    const list = await c9.call('GET', '/nodes/pve1/lxc', TOKEN);
    expect((list.json.data as { vmid: unknown }[])[0]!.vmid).toBe(101);
    const nodes = await c9.call('GET', '/nodes', TOKEN);
    expect((nodes.json.data as Record<string, unknown>[])[0]!.ssl_fingerprint).toMatch(
      /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
    );

    const { c: c3 } = await setup({
      flavour: '3.4',
      nodes: [
        {
          name: 'pve1',
          guests: [{ vmid: 101, type: 'openvz', status: 'mounted', archiveSize: 1 }],
        },
      ],
    });
    const a3 = await ticketAuth(c3);
    const lxc3 = await c3.call('GET', '/nodes/pve1/lxc', a3);
    expect([lxc3.status, lxc3.reason]).toEqual([
      501,
      "Method 'GET /nodes/pve1/lxc' not implemented",
    ]);
    const ovz = await c3.call('GET', '/nodes/pve1/openvz', a3);
    expect(ovz.json.data).toMatchObject([{ vmid: '101', status: 'mounted', type: 'openvz' }]);
    const n3 = await c3.call('GET', '/nodes', a3);
    expect((n3.json.data as Record<string, unknown>[])[0]!.ssl_fingerprint).toBeUndefined();
    const v3 = await c3.call('GET', '/version', a3);
    expect(v3.json.data).toMatchObject({ version: '3.4', keyboard: 'en-us' });
  });

  it('answers a single guest status, 500 for an unknown one, 501 for the wrong container type', async () => {
    const { c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [lxc(101, { lock: 'backup' })] }],
    });
    const one = await c.call('GET', '/nodes/pve1/lxc/101/status/current', TOKEN);
    expect(one.json.data).toMatchObject({
      vmid: 101,
      status: 'running',
      lock: 'backup',
      ha: { managed: 0 },
    });
    const none = await c.call('GET', '/nodes/pve1/lxc/999/status/current', TOKEN);
    expect([none.status, none.reason]).toEqual([
      500,
      "Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
    ]);
    const ovz = await c.call('GET', '/nodes/pve1/openvz/101/status/current', TOKEN);
    expect(ovz.status).toBe(501);
  });

  it('answers 595 for an offline node and lists it offline', async () => {
    const { sim, c } = await setup({
      flavour: '8.4',
      nodes: [
        { name: 'pve1', guests: [] },
        { name: 'pve2', guests: [lxc(201)] },
      ],
    });
    sim.setNodeOnline('pve2', false);
    const a = await c.call('GET', '/nodes/pve2/lxc', TOKEN);
    expect(a.status).toBe(595);
    const nodes = await c.call('GET', '/nodes', TOKEN);
    expect(nodes.json.data).toContainEqual({ node: 'pve2', status: 'offline' });
    const res = await c.call('GET', '/cluster/resources', { ...TOKEN, query: { type: 'vm' } });
    expect(res.json.data).toMatchObject([
      { id: 'lxc/201', vmid: 201, node: 'pve2', status: 'unknown' },
    ]);
  });
});

describe('tasks', () => {
  it('serialises two jobs on one node with the global lock and lists active tasks', async () => {
    const { sim, c } = await setup({
      flavour: '9.1',
      // Job 1 must still hold the lock when job 2 arrives, even on a busy machine.
      backupDurationMs: (g) => (g.vmid === 101 ? 1500 : 20),
      nodes: [{ name: 'pve1', guests: [lxc(101), lxc(102)] }],
    });
    const u1 = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...TOKEN,
        form: { vmid: '101', storage: 'local' },
      })
    ).json.data as string;
    const u2 = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...TOKEN,
        form: { vmid: '102', storage: 'local' },
      })
    ).json.data as string;
    const active = await c.call('GET', '/nodes/pve1/tasks', {
      ...TOKEN,
      query: { source: 'active' },
    });
    expect((active.json.data as { status: string }[]).map((t) => t.status)).toEqual([
      'RUNNING',
      'RUNNING',
    ]);
    const byVmid = await c.call('GET', '/nodes/pve1/tasks', {
      ...TOKEN,
      query: { source: 'all', vmid: '102' },
    });
    expect((byVmid.json.data as { upid: string }[]).map((t) => t.upid)).toEqual([u2]);
    await waitTask(c.call, 'pve1', u2, TOKEN);
    const l1 = await taskLog(c.call, 'pve1', u1, TOKEN);
    const l2 = await taskLog(c.call, 'pve1', u2, TOKEN);
    expect(l1).not.toContain('INFO: trying to get global lock - waiting...');
    expect(l2[0]).toBe('INFO: trying to get global lock - waiting...');
    expect(l2[1]).toBe('INFO: got global lock');
    const t1 = sim.tasks().find((t) => t.upid === u1)!;
    expect(t1).toMatchObject({ running: false, exitstatus: 'OK', vmids: [101] });
    // Task 1 ended before task 2 began its guest.
    const st1 = await c.call('GET', `/nodes/pve1/tasks/${encodeURIComponent(u1)}/status`, TOKEN);
    expect(st1.json.data).toMatchObject({
      status: 'stopped',
      exitstatus: 'OK',
      user: 'root@pam',
      tokenid: 'ci',
    });
  });

  it('pages the log with start/limit (1-based n, total) and limit=0 per flavour', async () => {
    for (const [flavour, zeroLimit] of [
      ['8.4', 'all'],
      ['3.4', 50],
    ] as const) {
      const { sim, c } = await setup({
        flavour,
        nodes: [
          { name: 'pve1', guests: [{ ...lxc(101), type: flavour === '3.4' ? 'openvz' : 'lxc' }] },
        ],
      });
      const auth = await ticketAuth(c);
      const hookDir = await recordingHook();
      cleanups.push(hookDir.cleanup);
      const upid = (
        await c.call('POST', '/nodes/pve1/vzdump', {
          ...auth,
          form: { vmid: '101', storage: 'local' },
        })
      ).json.data as string;
      await sim.idle();
      const all = await taskLog(c.call, 'pve1', upid, auth);
      const page = await c.call('GET', `/nodes/pve1/tasks/${upid}/log`, {
        ...auth,
        query: { start: '2', limit: '3' },
      });
      expect(page.json.total).toBe(all.length);
      expect(page.json.data).toEqual([
        { n: 3, t: all[2] },
        { n: 4, t: all[3] },
        { n: 5, t: all[4] },
      ]);
      const zero = await c.call('GET', `/nodes/pve1/tasks/${upid}/log`, {
        ...auth,
        query: { limit: '0' },
      });
      expect((zero.json.data as unknown[]).length).toBe(
        zeroLimit === 'all' ? all.length : Math.min(50, all.length),
      );
      const unknown = await c.call(
        'GET',
        `/nodes/pve1/tasks/${upid.replace('pve1', 'pve9')}/status`,
        auth,
      );
      expect([unknown.status, unknown.json.errors]).toEqual([400, { upid: 'no such task' }]);
    }
  });

  it('stops a running task and SIGTERMs its hook', async () => {
    const h = await recordingHook();
    cleanups.push(h.cleanup);
    const slow = path.join(h.dir, 'slow.sh');
    await writeFile(
      slow,
      `#!/bin/sh\nif [ "$1" = backup-start ]; then echo $$ > '${h.dir}/pid'; exec /bin/sleep 30; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    const { c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [lxc(101)], vzdumpConf: { script: slow } }],
    });
    const upid = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...TOKEN,
        form: { vmid: '101', storage: 'local' },
      })
    ).json.data as string;
    // Wait (bounded) until the hook runs and has written its pid.
    const pidFile = path.join(h.dir, 'pid');
    for (let i = 0; i < 200; i++) {
      if ((await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const t0 = Date.now();
    const del = await c.call('DELETE', `/nodes/pve1/tasks/${encodeURIComponent(upid)}`, TOKEN);
    expect(del.json.data).toBeNull();
    const st = await waitTask(c.call, 'pve1', upid, TOKEN);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(st.exitstatus).toBe('interrupted by signal');
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('storage content and volume delete', () => {
  it('lists backups with version fields and deletes via an imgdel task (>= 6), removing the .log', async () => {
    const { sim, c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [lxc(101), lxc(102)] }],
    });
    const upid = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...TOKEN,
        form: { vmid: '101,102', storage: 'local', compress: 'gzip' },
      })
    ).json.data as string;
    await waitTask(c.call, 'pve1', upid, TOKEN);
    const list = await c.call('GET', '/nodes/pve1/storage/local/content', {
      ...TOKEN,
      query: { content: 'backup', vmid: '101' },
    });
    const rows = list.json.data as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      content: 'backup',
      format: 'tar.gz',
      size: 1000,
      vmid: 101,
      subtype: 'lxc',
    });
    expect(typeof rows[0]!.ctime).toBe('number');
    const volid = rows[0]!.volid as string;
    expect(volid).toMatch(/^local:backup\/vzdump-lxc-101-.*\.tar\.gz$/);
    const del = await c.call(
      'DELETE',
      `/nodes/pve1/storage/local/content/${encodeURIComponent(volid)}`,
      TOKEN,
    );
    const delUpid = del.json.data as string;
    expect(delUpid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:imgdel::root@pam!ci:$/);
    expect((await waitTask(c.call, 'pve1', delUpid, TOKEN)).exitstatus).toBe('OK');
    const left = await readdir(sim.dumpDir('pve1'));
    expect(left.filter((f) => f.includes('-101-'))).toEqual([]);
    expect(left.filter((f) => f.includes('-102-'))).toHaveLength(2);
  });

  it('deletes synchronously on 3.4 and leaves the .log; vmid lists images there', async () => {
    const { sim, c } = await setup({
      flavour: '3.4',
      nodes: [
        {
          name: 'pve1',
          guests: [{ vmid: 101, type: 'openvz', status: 'running', archiveSize: 10 }],
        },
      ],
    });
    const auth = await ticketAuth(c);
    const upid = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...auth,
        form: { vmid: '101', storage: 'local' },
      })
    ).json.data as string;
    await waitTask(c.call, 'pve1', upid, auth);
    const withVmid = await c.call('GET', '/nodes/pve1/storage/local/content', {
      ...auth,
      query: { content: 'backup', vmid: '101' },
    });
    expect(withVmid.json.data).toEqual([]);
    const list = await c.call('GET', '/nodes/pve1/storage/local/content', {
      ...auth,
      query: { content: 'backup' },
    });
    const rows = list.json.data as Record<string, unknown>[];
    expect(Object.keys(rows[0]!).sort()).toEqual(['content', 'format', 'size', 'volid']);
    // raw (unencoded) volid in the path works too
    const del = await c.call('DELETE', `/nodes/pve1/storage/local/content/${rows[0]!.volid}`, auth);
    expect([del.status, del.json.data]).toEqual([200, null]);
    const left = await readdir(sim.dumpDir('pve1'));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/\.log$/);
  });
});

describe('faults', () => {
  it('answers bursts of errors, loses answers, delays paths, fails backups and locked guests', async () => {
    const { sim, c } = await setup({
      flavour: '8.4',
      nodes: [{ name: 'pve1', guests: [lxc(101), lxc(102, { lock: 'snapshot' }), lxc(103)] }],
      faults: {
        http: [{ path: '/nodes/pve1/lxc', status: 503, count: 2 }],
        slow: [{ path: /^\/version$/, delayMs: 250 }],
        failBackup: [{ vmid: 103, message: 'simulated tar failure' }],
      },
    });
    const first = await c.call('GET', '/nodes/pve1/lxc', TOKEN);
    const second = await c.call('GET', '/nodes/pve1/lxc', TOKEN);
    const third = await c.call('GET', '/nodes/pve1/lxc', TOKEN);
    expect([first.status, first.reason, second.status, third.status]).toEqual([
      503,
      'Service Unavailable',
      503,
      200,
    ]);

    const t0 = Date.now();
    await c.call('GET', '/version', TOKEN);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);

    sim.addFault({
      method: 'POST',
      path: '/nodes/pve1/vzdump',
      status: 0,
      count: 1,
      kind: 'drop-answer',
    });
    await expect(
      c.call('POST', '/nodes/pve1/vzdump', {
        ...TOKEN,
        form: { vmid: '101,102,103', storage: 'local' },
      }),
    ).rejects.toThrow();
    // The lost answer still started the job.
    await sim.idle();
    const [task] = sim.tasks();
    expect(task).toMatchObject({
      vmids: [101, 102, 103],
      running: false,
      exitstatus: 'job errors',
    });
    const log = await taskLog(c.call, 'pve1', task!.upid, TOKEN);
    expect(log).toContain('ERROR: Backup of VM 102 failed - CT is locked (snapshot)');
    expect(log).toContain('ERROR: Backup of VM 103 failed - simulated tar failure');
    expect(log.some((l) => l.startsWith('INFO: Finished Backup of VM 101'))).toBe(true);
    const recorded = sim.requests.filter((r) => r.path === '/nodes/pve1/vzdump');
    expect(recorded[0]!.body).toMatchObject({ vmid: '101,102,103' });
    const files = await readdir(sim.dumpDir('pve1'));
    expect(files.filter((f) => !f.endsWith('.log'))).toHaveLength(1);
  });
});
