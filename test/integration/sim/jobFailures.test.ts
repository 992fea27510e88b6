import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type SimOptions, startSimulator } from '../../../src/sim/index.js';
import { client, parseCalls, recordingHook, taskLog, waitTask } from './helpers.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(options: Omit<SimOptions, 'users' | 'tokens'>) {
  const sim = await startSimulator({
    users: [
      { userid: 'root@pam', password: 'pw' },
      { userid: 'backup@pve', password: 'pw2' },
    ],
    tokens: [{ id: 'root@pam!ci', secret: 'sec' }],
    authFailureDelayMs: 0,
    backupDurationMs: 20,
    ...options,
  });
  const c = client(sim);
  cleanups.push(async () => {
    await c.close();
    await sim.close();
  });
  return { sim, c };
}

async function login(c: ReturnType<typeof client>, username: string, password: string) {
  const a = await c.call('POST', '/access/ticket', { form: { username, password } });
  const d = a.json.data as { ticket: string; CSRFPreventionToken: string };
  return { ticket: d.ticket, csrf: d.CSRFPreventionToken };
}

async function hook() {
  const h = await recordingHook();
  cleanups.push(h.cleanup);
  return h;
}

const ct = (vmid: number, type: 'lxc' | 'openvz' = 'lxc') => ({
  vmid,
  type,
  status: 'running' as const,
  archiveSize: 64,
});

describe('job-level hook failures', () => {
  it('9.1: a failing job-start runs job-abort, backs up nothing and ends TASK ERROR with its message', async () => {
    const h = await hook();
    await writeFile(path.join(h.dir, 'fail-job-start'), '4');
    const { c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [ct(101)], vzdumpConf: { script: h.script } }],
    });
    const token = { token: 'root@pam!ci=sec' };
    const upid = (await c.call('POST', '/nodes/pve1/vzdump', { ...token, form: { vmid: '101' } }))
      .json.data as string;
    const st = await waitTask(c.call, 'pve1', upid, token);
    const msg = `command '${h.script} job-start' failed: exit code 4`;
    expect(st.exitstatus).toBe(msg);
    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual(['job-init', 'job-start', 'job-abort']);
    const log = await taskLog(c.call, 'pve1', upid, token);
    expect(log.slice(-2)).toEqual([`ERROR: Backup job failed - ${msg}`, `TASK ERROR: ${msg}`]);
  });

  it('9.1: a missing hook script fails job-init before the lock', async () => {
    const { c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [ct(101)], vzdumpConf: { script: '/nonexistent/hook' } }],
    });
    const token = { token: 'root@pam!ci=sec' };
    const upid = (await c.call('POST', '/nodes/pve1/vzdump', { ...token, form: { vmid: '101' } }))
      .json.data as string;
    const st = await waitTask(c.call, 'pve1', upid, token);
    expect(st.exitstatus).toBe("Error: The hook script '/nonexistent/hook' does not exist.");
    expect(await taskLog(c.call, 'pve1', upid, token)).toEqual([
      "TASK ERROR: Error: The hook script '/nonexistent/hook' does not exist.",
    ]);
  });

  it('3.4: a failing job-abort replaces the job error', async () => {
    const h = await hook();
    await writeFile(path.join(h.dir, 'fail-job-end'), '1');
    await writeFile(path.join(h.dir, 'fail-job-abort'), '2');
    const { c } = await setup({
      flavour: '3.4',
      nodes: [{ name: 'pve1', guests: [ct(101, 'openvz')], vzdumpConf: { script: h.script } }],
    });
    const auth = await login(c, 'root@pam', 'pw');
    const upid = (await c.call('POST', '/nodes/pve1/vzdump', { ...auth, form: { vmid: '101' } }))
      .json.data as string;
    const st = await waitTask(c.call, 'pve1', upid, auth);
    expect(st.exitstatus).toBe(`command '${h.script} job-abort' failed: exit code 2`);
  });
});

describe('storage', () => {
  it('9.1: an unknown or non-backup storage is a TASK ERROR after job-init', async () => {
    const h = await hook();
    const { c } = await setup({
      flavour: '9.1',
      nodes: [
        {
          name: 'pve1',
          guests: [ct(101)],
          storages: [
            { id: 'local', backup: true },
            { id: 'vmdata', backup: false },
          ],
          vzdumpConf: { script: h.script },
        },
      ],
    });
    const token = { token: 'root@pam!ci=sec' };
    for (const [storage, msg] of [
      ['nope', "storage 'nope' does not exist"],
      ['vmdata', "storage 'vmdata' does not support backups"],
    ] as const) {
      const a = await c.call('POST', '/nodes/pve1/vzdump', {
        ...token,
        form: { vmid: '101', storage },
      });
      expect(a.status).toBe(200);
      expect((await waitTask(c.call, 'pve1', a.json.data as string, token)).exitstatus).toBe(msg);
    }
    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual(['job-init', 'job-init']);
  });
});

describe('3.4 specifics', () => {
  it('refuses root-only parameters of the 3.x range to a non-root user, and lists suspend-mode hooks', async () => {
    const h = await hook();
    const { c } = await setup({
      flavour: '3.4',
      nodes: [{ name: 'pve1', guests: [ct(101, 'openvz')], vzdumpConf: { script: h.script } }],
    });
    const user = await login(c, 'backup@pve', 'pw2');
    const a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...user,
      form: { vmid: '101', bwlimit: '100', size: '1024' },
    });
    expect(a.status).toBe(400);
    expect(a.json).toEqual({
      data: null,
      errors: { bwlimit: 'Only root may set this option.', size: 'Only root may set this option.' },
    });
    const ok = await c.call('POST', '/nodes/pve1/vzdump', {
      ...user,
      form: { vmid: '101', mode: 'suspend' },
    });
    await waitTask(c.call, 'pve1', ok.json.data as string, user);
    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual([
      'job-start',
      'backup-start suspend 101',
      'pre-stop suspend 101',
      'pre-restart suspend 101',
      'backup-end suspend 101',
      'log-end suspend 101',
      'job-end',
    ]);
    expect(await taskLog(c.call, 'pve1', ok.json.data as string, user)).toContain(
      'INFO: starting new backup job: vzdump 101 --mode suspend --node pve1',
    );
  });
});

describe('global lock', () => {
  it('3.4: lockwait=0 fails at once while another job holds the lock (old spelling)', async () => {
    const { sim, c } = await setup({
      flavour: '3.4',
      // Long enough that the first job surely holds the lock when the second asks, even on a busy
      // box; the test stops it right after.
      backupDurationMs: (g) => (g.vmid === 101 ? 20_000 : 20),
      nodes: [{ name: 'pve1', guests: [ct(101, 'openvz'), ct(102, 'openvz')] }],
    });
    const auth = await login(c, 'root@pam', 'pw');
    const first = await c.call('POST', '/nodes/pve1/vzdump', { ...auth, form: { vmid: '101' } });
    const second = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '102', lockwait: '0' },
    });
    const st = await waitTask(c.call, 'pve1', second.json.data as string, auth);
    expect(st.exitstatus).toBe("can't aquire lock '/var/run/vzdump.lock' (wait = 0)");
    const firstUpid = encodeURIComponent(first.json.data as string);
    await c.call('DELETE', `/nodes/pve1/tasks/${firstUpid}`, auth);
    await sim.idle();
    expect(sim.tasks().map((t) => t.exitstatus)).toEqual([
      'interrupted by signal',
      "can't aquire lock '/var/run/vzdump.lock' (wait = 0)",
    ]);
  });
});

describe('request encoding', () => {
  it('answers 501 to a body without Content-Length (chunked)', async () => {
    const { sim, c } = await setup({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests: [ct(101)] }],
    });
    const res = await request(`${sim.url}/api2/json/nodes/pve1/vzdump`, {
      method: 'POST',
      headers: {
        authorization: 'PVEAPIToken=root@pam!ci=sec',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: Readable.from([Buffer.from('vmid=101')]),
      dispatcher: c.agent,
    });
    await res.body.text();
    expect(res.statusCode).toBe(501);
    expect(sim.tasks()).toEqual([]);
  });

  it('accepts JSON bodies on 9.1 and skips vmids of other nodes', async () => {
    const { sim, c } = await setup({
      flavour: '9.1',
      nodes: [
        { name: 'pve1', guests: [ct(101)] },
        { name: 'pve2', guests: [ct(201)] },
      ],
    });
    const token = { token: 'root@pam!ci=sec' };
    const a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      json: { vmid: '101,201', storage: 'local' },
    });
    expect(a.status).toBe(200);
    await sim.idle();
    const log = await taskLog(c.call, 'pve1', a.json.data as string, token);
    expect(log).toContain('INFO: skip external VMs: 201');
    expect(sim.tasks()[0]).toMatchObject({ vmids: [101], exitstatus: 'OK' });
  });
});
