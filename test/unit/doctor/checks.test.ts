import { describe, expect, it } from 'vitest';
import {
  hookDefaultsCannotTell,
  hookDefaultsCheck,
  lockCheck,
  parsePrune,
  privilegesCannotTell,
  pruneCheck,
  restorePrivilegeChecks,
  spaceCheck,
  storageConfigCheck,
  storagePrivilegeCheck,
  taskLogCheck,
  vmBackupCheck,
} from '../../../src/doctor/checks.js';

const TOKEN = 'backup@pve!nightly';
const GiB = 1024 ** 3;

describe('vmBackupCheck', () => {
  it('is ok with VM.Backup on /vms, whatever the propagate flag (presence counts)', () => {
    expect(vmBackupCheck(TOKEN, { '/vms': { 'VM.Backup': 0 } }).status).toBe('ok');
  });
  it('fails without it, with the pveum command for a token or a user', () => {
    const l = vmBackupCheck(TOKEN, { '/vms': { 'VM.Audit': 1 }, '/': {} });
    expect(l).toEqual({
      check: 'privilege.vms',
      status: 'fail',
      message: `${TOKEN} lacks VM.Backup on /vms`,
      fix: `grant it with pveum acl modify /vms --tokens '${TOKEN}' --roles PVEFtpBackup`,
    });
    expect(vmBackupCheck('ops@pve', {}).fix).toContain('--users ops@pve');
  });
  it('warns when only some guests are granted', () => {
    const l = vmBackupCheck(TOKEN, {
      '/vms': {},
      '/vms/102': { 'VM.Backup': 1 },
      '/vms/101': { 'VM.Backup': 1 },
    });
    expect(l.status).toBe('warn');
    expect(l.message).toContain('only on /vms/101, /vms/102');
  });
});

describe('storagePrivilegeCheck', () => {
  it('needs Datastore.AllocateSpace on the storage path', () => {
    const p = '/storage/ftp-staging';
    expect(
      storagePrivilegeCheck(TOKEN, 'ftp-staging', { [p]: { 'Datastore.AllocateSpace': 1 } }).status,
    ).toBe('ok');
    const l = storagePrivilegeCheck(TOKEN, 'ftp-staging', { [p]: { 'Datastore.Audit': 1 } });
    expect(l.status).toBe('fail');
    expect(l.fix).toBe(
      `grant it with pveum acl modify ${p} --tokens '${TOKEN}' --roles PVEFtpBackup`,
    );
  });
});

describe('restorePrivilegeChecks', () => {
  const sdnOk = { '/sdn/zones/localnetwork': { 'SDN.Use': 0 } };
  const byCheck = (lines: { check: string; status: string }[]) =>
    Object.fromEntries(lines.map((l) => [l.check, l.status]));
  it('fails without VM.Allocate on /vms, naming the restore role; warns when only some ids have it', () => {
    const [allocate] = restorePrivilegeChecks(TOKEN, { '/vms': { 'VM.Backup': 1 } }, { major: 7 });
    expect(allocate).toEqual({
      check: 'restore.allocate',
      status: 'fail',
      message: `${TOKEN} lacks VM.Allocate on /vms: it cannot restore`,
      fix: `grant it with pveum acl modify /vms --tokens '${TOKEN}' --roles PVEFtpRestore (README: Restore)`,
    });
    const some = restorePrivilegeChecks(
      TOKEN,
      { '/vms': {}, '/vms/105': { 'VM.Allocate': 1 } },
      { major: 7 },
    );
    expect(some[0]?.status).toBe('warn');
    expect(some[0]?.message).toContain('only on /vms/105');
  });
  it('asks SDN.Use from PVE 8 and Sys.Modify from PVE 9, as those releases check them', () => {
    const tree = { '/vms': { 'VM.Allocate': 1 }, '/': {} };
    expect(byCheck(restorePrivilegeChecks(TOKEN, tree, { major: 7, sdn: {} }))).toEqual({
      'restore.allocate': 'ok',
    });
    expect(byCheck(restorePrivilegeChecks(TOKEN, tree, { major: 8, sdn: {} }))).toEqual({
      'restore.allocate': 'ok',
      'restore.sdn': 'warn',
    });
    expect(byCheck(restorePrivilegeChecks(TOKEN, tree, { major: 9, sdn: sdnOk }))).toEqual({
      'restore.allocate': 'ok',
      'restore.sdn': 'ok',
      'restore.privileged': 'warn',
    });
    const root = { ...tree, '/': { 'Sys.Modify': 1 } };
    expect(restorePrivilegeChecks(TOKEN, root, { major: 9, sdn: sdnOk })[2]?.status).toBe('ok');
  });
});

describe('storageConfigCheck', () => {
  const row = { storage: 'ftp-staging', content: 'backup,iso' };
  it('ok for an enabled storage with backup content', () => {
    expect(storageConfigCheck('ftp-staging', 'pve1', row).status).toBe('ok');
  });
  it('fails a missing, disabled, node-restricted or non-backup storage, each with its fix', () => {
    expect(storageConfigCheck('ftp-staging', 'pve1', undefined).fix).toContain(
      'pvesm add dir ftp-staging',
    );
    expect(storageConfigCheck('ftp-staging', 'pve1', { ...row, disable: 1 }).fix).toBe(
      'pvesm set ftp-staging --disable 0',
    );
    expect(storageConfigCheck('ftp-staging', 'pve1', { ...row, nodes: 'pve2' }).fix).toBe(
      'pvesm set ftp-staging --nodes pve2,pve1',
    );
    expect(storageConfigCheck('ftp-staging', 'pve1', { ...row, nodes: 'pve1,pve2' }).status).toBe(
      'ok',
    );
    expect(
      storageConfigCheck('ftp-staging', 'pve1', { storage: 'ftp-staging', content: 'images' }).fix,
    ).toBe('pvesm set ftp-staging --content images,backup');
  });
});

describe('pruneCheck', () => {
  it('parses prune-backups and refuses what is not keep-X=N', () => {
    expect(parsePrune('keep-last=3, keep-daily=7')).toEqual({ 'keep-last': 3, 'keep-daily': 7 });
    expect(parsePrune('keep-last=x')).toBeUndefined();
  });
  it('ok for keep-all=1, no setting, or maxfiles 0', () => {
    expect(pruneCheck('s', { pruneBackups: 'keep-all=1' }, 'storage.cfg').status).toBe('ok');
    expect(pruneCheck('s', {}, 'storage.cfg').status).toBe('ok');
    expect(pruneCheck('s', { maxfiles: 0 }, 'storage.cfg').status).toBe('ok');
  });
  it('fails any pruning: it can delete an archive kept on the node before its copy is verified', () => {
    const l = pruneCheck('s', { pruneBackups: 'keep-last=1' }, 'vzdump defaults');
    expect(l.status).toBe('fail');
    expect(l.message).toContain('keep-last=1, vzdump defaults');
    expect(l.fix).toBe('keep every archive there: pvesm set s --prune-backups keep-all=1');
    expect(pruneCheck('s', { maxfiles: '2' }, 'storage.cfg')).toMatchObject({
      status: 'fail',
      fix: 'pvesm set s --maxfiles 0',
    });
  });
  it('warns on a value it cannot read', () => {
    expect(pruneCheck('s', { pruneBackups: 'bogus' }, 'storage.cfg').status).toBe('warn');
  });
});

describe('spaceCheck', () => {
  it('reports free space, warns when low, fails when not enabled or active', () => {
    expect(
      spaceCheck('s', 'pve1', { enabled: 1, active: 1, total: 500 * GiB, avail: 412 * GiB }),
    ).toMatchObject({ status: 'ok', message: 'staging storage s: 412.0 GiB free of 500.0 GiB' });
    expect(
      spaceCheck('s', 'pve1', { enabled: 1, active: 1, total: 20 * GiB, avail: GiB }).status,
    ).toBe('warn');
    expect(spaceCheck('s', 'pve1', { enabled: 0, active: 0 }).status).toBe('fail');
    expect(spaceCheck('s', 'pve1', { enabled: 1, active: 0 }).status).toBe('fail');
  });
});

describe('hook in the vzdump defaults', () => {
  it('ok when script is set; cannot tell without Sys.Audit; fail when it is surely absent', () => {
    expect(hookDefaultsCheck('pve1', { script: '/usr/local/bin/h' }, false).message).toBe(
      'vzdump runs the hook /usr/local/bin/h',
    );
    expect(hookDefaultsCheck('pve1', {}, false)).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('Sys.Audit on /nodes/pve1'),
    });
    expect(hookDefaultsCheck('pve1', {}, true).status).toBe('fail');
  });
  it('says which release lacks the endpoint', () => {
    expect(hookDefaultsCannotTell('3.4')).toEqual({
      check: 'hook.defaults',
      status: 'warn',
      message:
        'cannot tell on PVE 3.4: vzdump defaults (GET /nodes/{node}/vzdump/defaults exists from PVE 6.4)',
    });
    expect(privilegesCannotTell('3.4').message).toBe(
      'cannot tell on PVE 3.4: privileges (GET /access/permissions exists from PVE 6.1)',
    );
  });
});

describe('taskLogCheck', () => {
  const task = { upid: 'UPID:pve1:1:2:3:vzdump::x:', starttime: 1_764_900_000 };
  it('ok with upload lines as vzdump logs them (INFO: prefix)', () => {
    const l = taskLogCheck(task, [
      'INFO: starting new backup job',
      'INFO: pve-ftp-backup-hook: uploaded a.tar.zst (10 bytes) to ftp://nas/x/',
      'INFO: pve-ftp-backup-hook: uploaded a.log (3 bytes) to ftp://nas/x/',
    ]);
    expect(l.status).toBe('ok');
    expect(l.message).toContain('shows 2 upload(s) by the hook');
  });
  it('fails on a hook ERROR line, quoting it', () => {
    const l = taskLogCheck(task, [
      'INFO: pve-ftp-backup-hook: ERROR: upload of a.tar.zst to ftp://nas/x/ failed after 4 attempt(s): login denied',
    ]);
    expect(l.status).toBe('fail');
    expect(l.message).toContain('ERROR: upload of a.tar.zst');
  });
  it('warns without hook lines or without any task', () => {
    expect(taskLogCheck(task, ['INFO: Finished Backup of VM 101']).status).toBe('warn');
    expect(taskLogCheck(undefined, []).status).toBe('warn');
  });
});

describe('lockCheck', () => {
  const holder = { runId: 'r1', host: 'cron', pid: 7, startedAt: '2026-12-05T00:00:00Z' };
  it('ok without a lock; a held lock is a warning naming holder and age, fresh or stale', () => {
    expect(lockCheck('/d/pve1/.lock', undefined, 600).status).toBe('ok');
    const fresh = lockCheck('/d/pve1/.lock', { holder, ageSeconds: 30 }, 600);
    expect(fresh.status).toBe('warn');
    expect(fresh.message).toBe(
      'lock /d/pve1/.lock held by run r1 (host cron, pid 7, since 2026-12-05T00:00:00Z), last written 30s ago',
    );
    const stale = lockCheck('/d/pve1/.lock', { holder, ageSeconds: 3600 }, 600);
    expect(stale.message).toMatch(/^stale lock .* last written 60m ago$/);
    expect(lockCheck('/l', {}, 600).message).toBe('lock /l held by an unknown holder');
  });
});
