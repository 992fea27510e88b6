import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkArchive } from '../../../src/archive/checkArchive.js';
import { type SimOptions, startSimulator } from '../../../src/sim/index.js';
import { client, parseCalls, recordingHook, taskLog, waitTask } from './helpers.js';

const SHELL_ADDED = new Set(['PWD', 'SHLVL', '_', 'OLDPWD']);
const ROOT = { ticket: '', csrf: '' };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(options: Omit<SimOptions, 'users' | 'tokens'>) {
  const sim = await startSimulator({
    users: [{ userid: 'root@pam', password: 'pw' }],
    tokens: [{ id: 'root@pam!ci', secret: 'sec' }],
    authFailureDelayMs: 0,
    backupDurationMs: 30,
    ...options,
  });
  const c = client(sim);
  cleanups.push(async () => {
    await c.close();
    await sim.close();
  });
  const login = await c.call('POST', '/access/ticket', {
    form: { username: 'root@pam', password: 'pw' },
  });
  const d = login.json.data as { ticket: string; CSRFPreventionToken: string };
  return { sim, c, auth: { ...ROOT, ticket: d.ticket, csrf: d.CSRFPreventionToken } };
}

async function hook() {
  const h = await recordingHook();
  cleanups.push(h.cleanup);
  return h;
}

describe('vzdump on 9.1', () => {
  it('runs the hook phases in order with the replaced environment, writes archive and log', async () => {
    const h = await hook();
    const { sim, c, auth } = await setup({
      flavour: '9.1',
      nodes: [
        {
          name: 'pve1',
          guests: [
            {
              vmid: 101,
              type: 'lxc',
              name: 'web',
              status: 'running',
              archiveSize: 3 * 1024 * 1024 + 17,
            },
          ],
          vzdumpConf: { script: h.script },
        },
      ],
    });
    const post = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '101', storage: 'ftp-staging', mode: 'snapshot', compress: 'zstd' },
    });
    expect(post.status).toBe(200);
    const upid = post.json.data as string;
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzdump:101:root@pam:$/);
    const status = await waitTask(c.call, 'pve1', upid, auth);
    expect(status.exitstatus).toBe('OK');

    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual([
      'job-init',
      'job-start',
      'backup-start snapshot 101',
      'pre-stop snapshot 101',
      'pre-restart snapshot 101',
      'post-restart snapshot 101',
      'backup-end snapshot 101',
      'log-end snapshot 101',
      'job-end',
    ]);
    // The archive exists (final name) only from backup-end, the .log only in log-end.
    expect(calls.filter((x) => x.targetExists).map((x) => x.argv[0])).toEqual([
      'backup-end',
      'log-end',
    ]);
    expect(calls.filter((x) => x.logExists).map((x) => x.argv[0])).toEqual(['log-end']);
    const dump = sim.dumpDir('pve1');
    const files = (await readdir(dump)).sort();
    expect(files).toHaveLength(2);
    const archive = files.find((f) => f.endsWith('.tar.zst'))!;
    expect(archive).toMatch(/^vzdump-lxc-101-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$/);
    const base = archive.replace(/\.tar\.zst$/, '');
    expect(files).toContain(`${base}.log`);
    expect((await stat(path.join(dump, archive))).size).toBe(3 * 1024 * 1024 + 17);
    const content = await checkArchive(createReadStream(path.join(dump, archive)), {
      name: archive,
    });
    expect(content).toMatchObject({ ok: true, bytes: 3 * 1024 * 1024 + 17 });

    const backupEnd = calls.find((x) => x.argv[0] === 'backup-end')!;
    const keys = Object.keys(backupEnd.env).filter((k) => !SHELL_ADDED.has(k));
    expect(keys.sort()).toEqual(
      [
        'DUMPDIR',
        'HOSTNAME',
        'LC_ALL',
        'LOGFILE',
        'LVM_SUPPRESS_FD_WARNINGS',
        'STOREID',
        'TARGET',
        'VMTYPE',
      ].sort(),
    );
    expect(backupEnd.env).toMatchObject({
      STOREID: 'ftp-staging',
      DUMPDIR: dump,
      VMTYPE: 'lxc',
      HOSTNAME: 'web',
      TARGET: path.join(dump, archive),
      LOGFILE: path.join(dump, `${base}.log`),
      LC_ALL: 'C',
      LVM_SUPPRESS_FD_WARNINGS: '1',
    });
    // exec'd directly (no bash in between to add SHLVL)
    expect(backupEnd.env.SHLVL).toBeUndefined();
    expect(calls[0]!.env.DUMPDIR).toBeUndefined();
    expect(calls[1]!.env).toMatchObject({ STOREID: 'ftp-staging', DUMPDIR: dump });

    const log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log[0]).toBe('INFO: hook says job-init');
    expect(log).toContain(`INFO: creating vzdump archive '${path.join(dump, archive)}'`);
    expect(log).toContain('INFO: hook says backup-end');
    expect(log).toContain('INFO: archive file size: 3MB');
    expect(log.some((l) => /^INFO: Finished Backup of VM 101 \(\d\d:\d\d:\d\d\)$/.test(l))).toBe(
      true,
    );
    expect(log.at(-2)).toBe('INFO: Backup job finished successfully');
    expect(log.at(-1)).toBe('TASK OK');
    // The per-guest .log holds the guest's lines, written before log-end.
    const glog = await readFile(path.join(dump, `${base}.log`), 'utf8');
    expect(glog).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO: Starting Backup of VM 101 \(lxc\)$/m,
    );
    expect(glog).not.toContain('hook says log-end');
  });

  it('calls pre-restart/post-restart after backup-end in stop mode, and skips them for a stopped guest', async () => {
    const h = await hook();
    const { c, auth } = await setup({
      flavour: '9.1',
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'lxc', status: 'running', archiveSize: 10 },
            { vmid: 102, type: 'lxc', status: 'stopped', archiveSize: 10 },
          ],
          vzdumpConf: { script: h.script },
        },
      ],
    });
    const post = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '102,101', storage: 'local', mode: 'stop' },
    });
    const upid = post.json.data as string;
    expect(upid).toContain(':vzdump::root@pam:');
    await waitTask(c.call, 'pve1', upid, auth);
    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual([
      'job-init',
      'job-start',
      'backup-start stop 101',
      'pre-stop stop 101',
      'backup-end stop 101',
      'pre-restart stop 101',
      'post-restart stop 101',
      'log-end stop 101',
      'backup-start stop 102',
      'backup-end stop 102',
      'log-end stop 102',
      'job-end',
    ]);
  });

  it('fails the guest on a backup-end error but keeps the archive; a log-end error is a warning', async () => {
    const h = await hook();
    await writeFile(path.join(h.dir, 'fail-backup-end'), '3');
    const { sim, c, auth } = await setup({
      flavour: '9.1',
      nodes: [
        {
          name: 'pve1',
          guests: [{ vmid: 101, type: 'lxc', status: 'running', archiveSize: 100 }],
          vzdumpConf: { script: h.script },
        },
      ],
    });
    let upid = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...auth,
        form: { vmid: '101', storage: 'local' },
      })
    ).json.data as string;
    let st = await waitTask(c.call, 'pve1', upid, auth);
    expect(st.exitstatus).toBe('job errors');
    let log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log).toContain(
      `ERROR: Backup of VM 101 failed - command '${h.script} backup-end snapshot 101' failed: exit code 3`,
    );
    expect(log.at(-1)).toBe('TASK ERROR: job errors');
    expect((await readdir(sim.dumpDir('pve1'))).some((f) => f.endsWith('.tar'))).toBe(true);

    await writeFile(path.join(h.dir, 'fail-backup-end'), '0');
    await writeFile(path.join(h.dir, 'fail-log-end'), '1');
    upid = (
      await c.call('POST', '/nodes/pve1/vzdump', {
        ...auth,
        form: { vmid: '101', storage: 'local' },
      })
    ).json.data as string;
    st = await waitTask(c.call, 'pve1', upid, auth);
    expect(st.exitstatus).toBe('WARNINGS: 1');
    log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log).toContain(`WARN: command '${h.script} log-end snapshot 101' failed: exit code 1`);
    expect(log.at(-1)).toBe('TASK WARNINGS: 1');
  });

  it('refuses unknown, badly typed and root-only parameters per the schema', async () => {
    const { c, auth } = await setup({
      flavour: '9.1',
      nodes: [
        { name: 'pve1', guests: [{ vmid: 101, type: 'lxc', status: 'running', archiveSize: 1 }] },
      ],
    });
    const token = { token: 'root@pam!ci=sec' };
    let a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      form: { vmid: '101', bogus: '1' },
    });
    expect([a.status, a.reason]).toEqual([400, 'Parameter verification failed.']);
    expect(a.json.errors).toEqual({
      bogus:
        'property is not defined in schema and the schema does not allow additional properties',
    });
    expect(a.json.message).toBe('Parameter verification failed.\n');
    a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      form: { vmid: '101', compress: 'bzip2', mode: 'x' },
    });
    expect(Object.keys(a.json.errors ?? {}).sort()).toEqual(['compress', 'mode']);
    a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      form: { vmid: '101', script: '/bin/true' },
    });
    expect(a.json.errors).toEqual({ script: 'Only root may set this option.' });
    // size exists only on 3.x
    a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      form: { vmid: '101', size: '1024' },
    });
    expect(Object.keys(a.json.errors ?? {})).toEqual(['size']);
    a = await c.call('POST', '/nodes/pve1/vzdump', { ...token, form: { storage: 'local' } });
    expect(a.json.errors).toEqual({ vmid: 'property is missing' });
    // bwlimit is no longer root-only on >= 7.3; a root@pam ticket may set the root-only ones.
    a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...token,
      form: { vmid: '101', bwlimit: '1000' },
    });
    expect(a.status).toBe(200);
    a = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '101', tmpdir: '/tmp' },
    });
    expect(a.status).toBe(200);
    // a vmid of no local guest: nothing started, "OK"
    a = await c.call('POST', '/nodes/pve1/vzdump', { ...token, form: { vmid: '999' } });
    expect(a.json.data).toBe('OK');
  });
});

describe('vzdump on 3.4', () => {
  it('runs the 3.x phases through bash with TARFILE, names the archive, no WARNINGS', async () => {
    const h = await hook();
    await writeFile(path.join(h.dir, 'fail-log-end'), '2');
    const { sim, c, auth } = await setup({
      flavour: '3.4',
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'openvz', name: 'ct101', status: 'running', archiveSize: 5000 },
          ],
          vzdumpConf: { script: h.script },
        },
        {
          name: 'pve2',
          guests: [{ vmid: 201, type: 'openvz', status: 'running', archiveSize: 1 }],
        },
      ],
    });
    const post = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '101', storage: 'local', mode: 'snapshot', compress: 'lzo' },
    });
    const upid = post.json.data as string;
    expect(upid).toMatch(/:vzdump::root@pam:$/);
    const st = await waitTask(c.call, 'pve1', upid, auth);
    // log-end failures are ignored on 3.x
    expect(st.exitstatus).toBe('OK');
    const calls = parseCalls(await readFile(path.join(h.dir, 'calls.jsonl'), 'utf8'));
    expect(calls.map((x) => x.argv.join(' '))).toEqual([
      'job-start',
      'backup-start snapshot 101',
      'pre-stop snapshot 101',
      'pre-restart snapshot 101',
      'backup-end snapshot 101',
      'log-end snapshot 101',
      'job-end',
    ]);
    const env = calls[2]!.env;
    expect(env.TARGET).toBeUndefined();
    const dump = sim.dumpDir('pve1');
    expect(env.TARFILE).toMatch(new RegExp(`^${dump}/vzdump-openvz-101-[0-9_-]+\\.tar\\.lzo$`));
    // bash -c adds its own variables (PWD, SHLVL, _); vzdump's are exactly these.
    const keys = Object.keys(env).filter((k) => !SHELL_ADDED.has(k));
    expect(keys.sort()).toEqual(
      [
        'DUMPDIR',
        'HOSTNAME',
        'LC_ALL',
        'LOGFILE',
        'LVM_SUPPRESS_FD_WARNINGS',
        'STOREID',
        'TARFILE',
        'VMTYPE',
      ].sort(),
    );
    expect(env.HOSTNAME).toBe('ct101');
    // bash -c ran the command: it sets SHLVL and `_` (the script path) for the hook.
    expect(env.SHLVL).toBeDefined();
    expect(env._).toBe(h.script);
    const log = await taskLog(c.call, 'pve1', upid, auth);
    expect(log).toContain(`INFO: creating archive '${env.TARFILE}'`);
    expect(log.some((l) => l.startsWith('WARN:'))).toBe(false);
    expect(log.at(-1)).toBe('TASK OK');

    // A vmid of another node fails inside the task on 3.x.
    const foreign = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '201', storage: 'local' },
    });
    const fst = await waitTask(c.call, 'pve1', foreign.json.data as string, auth);
    expect(fst.exitstatus).toBe('job errors');
    expect(await taskLog(c.call, 'pve1', foreign.json.data as string, auth)).toContain(
      "ERROR: Backup of VM 201 failed - unable to find VM '201'",
    );
    // Unknown storage fails the POST itself (new() before the fork).
    const bad = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '101', storage: 'nope' },
    });
    expect([bad.status, bad.reason]).toEqual([500, "storage 'nope' does not exist"]);
    // zstd is not in the 3.4 enum
    const zstd = await c.call('POST', '/nodes/pve1/vzdump', {
      ...auth,
      form: { vmid: '101', compress: 'zstd' },
    });
    expect(zstd.status).toBe(400);
    expect(Object.keys(zstd.json.errors ?? {})).toEqual(['compress']);
  });
});
