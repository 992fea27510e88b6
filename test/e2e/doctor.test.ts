/**
 * `doctor` through the BUILT CLI against the simulator and the embedded FTP
 * server: an all-ok world (exit 0, after a real run so the task log shows the
 * hook's uploads), a held lock reported and left byte-identical, the NAS down
 * (fail), a token without VM.Backup (fail), `--restore` with a backup token
 * (fail) and a restore token, a staging storage that prunes (fail), and PVE
 * 3.4 where privileges and vzdump defaults cannot be told.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckLine, DoctorReport } from '../../src/doctor/types.js';
import type { SimNode } from '../../src/sim/index.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { DEMO_FTP_DIR, nasSnapshot, startWorld, type World } from './support/world.js';

const nodes = (): SimNode[] => [
  {
    name: 'pve1',
    guests: [{ vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 4096 }],
  },
];

const doctor = (world: World, ...extra: string[]) =>
  runCli(['doctor', '-c', world.configPath, ...extra], { env: world.env, cwd: world.tmp });

/** Every line of the report with its node, for readable assertions. */
function lines(report: DoctorReport): (CheckLine & { node: string; kind: string })[] {
  return report.groups.flatMap((g) => g.lines.map((l) => ({ ...l, node: g.node, kind: g.kind })));
}

/** The checks that failed, as `node check`. */
const failed = (report: DoctorReport) =>
  lines(report)
    .filter((l) => l.status === 'fail')
    .map((l) => `${l.node || '-'} ${l.check}`);

const line = (report: DoctorReport, check: string, node = '') =>
  lines(report).find((l) => l.check === check && l.node === node);

let world: World;
const worlds: World[] = [];

/** A PVE 9.1 world whose token holds exactly `acl` (path → privileges); closed after all. */
async function worldWithAcl(acl: Record<string, string[]>): Promise<World> {
  const w = await startWorld({
    flavour: '9.1',
    auth: 'token',
    nodes: nodes(),
    access: { acl: { 'backup@pve!nightly': acl } },
  });
  worlds.push(w);
  return w;
}

/** The staging storage and node privileges every token below holds. */
const storageAndNodes = {
  '/storage': ['Datastore.AllocateSpace', 'Datastore.Audit'],
  '/nodes': ['Sys.Audit'],
};

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '8.4',
    auth: 'token',
    backupDurationMs: 100,
    nodes: nodes(),
  });
  worlds.push(world);
  const night = await runCli(['run', '-c', world.configPath, '--json'], {
    env: world.env,
    cwd: world.tmp,
  });
  expect(night.code, night.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  for (const w of worlds) await w.close();
});

describe('doctor', () => {
  it('passes every check of a healthy world, exit 0, and leaves no probe file', async () => {
    const before = await nasSnapshot(world);
    const r = await doctor(world, '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = jsonReport<DoctorReport>(r);
    expect(report.counts.fail).toBe(0);
    expect(lines(report).filter((l) => l.status !== 'ok')).toEqual([]);
    expect(line(report, 'privilege.vms')?.message).toContain('has VM.Backup on /vms');
    expect(line(report, 'hook.defaults', 'pve1')?.message).toMatch(/vzdump runs the hook .*hook/);
    expect(line(report, 'hook.tasklog', 'pve1')?.message).toMatch(
      /shows 2 upload\(s\) by the hook/,
    );
    expect(line(report, 'storage.space', 'pve1')?.message).toContain('412.0 GiB free');
    expect(line(report, 'nas.writable', 'pve1')?.status).toBe('ok');
    // No secret reaches stdout or stderr.
    for (const secret of Object.values(world.env)) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    // The probe was removed: the NAS tree is exactly what it was.
    expect(await nasSnapshot(world)).toEqual(before);

    const text = await doctor(world);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^cluster demo$/m);
    expect(text.stdout).toMatch(
      /^ {2}pve1 {2}ok {4}staging storage ftp-staging: enabled, backup content$/m,
    );
    expect(text.stdout).toMatch(/^NAS 127\.0\.0\.1:\d+$/m);
  }, 60_000);

  it('refuses a --node no cluster has, exit 2, naming it', async () => {
    const r = await doctor(world, '--node', 'pve9');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--node pve9: no such node in the clusters (they have: pve1)');
  }, 60_000);

  it('reports a held lock with its holder and leaves it byte-identical', async () => {
    const lockDir = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock');
    await mkdir(lockDir);
    const holder = JSON.stringify({
      runId: 'run-elsewhere',
      host: 'cron-host',
      pid: 4242,
      startedAt: new Date().toISOString(),
      token: '6f1c1d7e-0000-4000-8000-000000000001',
    });
    await writeFile(join(lockDir, 'holder.json'), holder);
    const r = await doctor(world, '--json');
    expect(r.code, r.stderr).toBe(0);
    const lock = line(jsonReport<DoctorReport>(r), 'nas.lock', 'pve1');
    expect(lock?.status).toBe('warn');
    expect(lock?.message).toMatch(/held by run run-elsewhere \(host cron-host, pid 4242/);
    expect(await readdir(lockDir)).toEqual(['holder.json']);
    expect(await readFile(join(lockDir, 'holder.json'), 'utf8')).toBe(holder);
  }, 60_000);

  it('fails the NAS check when the NAS is down (the API checks still run), exit 1', async () => {
    await world.ftp.close();
    const r = await doctor(world, '--json');
    expect(r.code, r.stderr).toBe(1);
    const report = jsonReport<DoctorReport>(r);
    expect(failed(report)).toEqual(['- nas.reachable']);
    expect(line(report, 'privilege.vms')?.status).toBe('ok');
  }, 60_000);

  it('fails a token without VM.Backup, naming the pveum fix, exit 1', async () => {
    const w = await worldWithAcl(storageAndNodes);
    const json = await doctor(w, '--json');
    expect(failed(jsonReport<DoctorReport>(json))).toEqual(['- privilege.vms']);
    const r = await doctor(w);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      "fail  backup@pve!nightly lacks VM.Backup on /vms: grant it with pveum acl modify /vms --tokens 'backup@pve!nightly' --roles PVEFtpBackup",
    );
    expect(r.stdout).toMatch(/ok {4}backup@pve!nightly has Datastore.AllocateSpace/);
  }, 60_000);

  it('--restore: a backup token cannot restore (exit 1); a restore token passes, warned of what depends on the guest', async () => {
    const backupRole = ['VM.Audit', 'VM.Backup'];
    const w = await worldWithAcl({ '/vms': backupRole, ...storageAndNodes });
    // Without --restore nothing about restore is said: a backup token is fine as it is.
    const plain = jsonReport<DoctorReport>(await doctor(w, '--json'));
    expect(lines(plain).filter((l) => l.check.startsWith('restore.'))).toEqual([]);
    expect(failed(plain)).toEqual([]);

    const r = await doctor(w, '--restore');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      "fail  backup@pve!nightly lacks VM.Allocate on /vms: it cannot restore: grant it with pveum acl modify /vms --tokens 'backup@pve!nightly' --roles PVEFtpRestore (README: Restore)",
    );
    const report = jsonReport<DoctorReport>(await doctor(w, '--restore', '--json'));
    expect(failed(report)).toEqual(['- restore.allocate']);
    expect(line(report, 'restore.sdn')?.status).toBe('warn');
    expect(line(report, 'restore.privileged')?.status).toBe('warn');

    const restore = await worldWithAcl({
      '/vms': [...backupRole, 'VM.Allocate'],
      ...storageAndNodes,
      '/sdn/zones/localnetwork': ['SDN.Use'],
    });
    const good = jsonReport<DoctorReport>(await doctor(restore, '--restore', '--json'));
    expect(failed(good)).toEqual([]);
    expect(line(good, 'restore.allocate')?.status).toBe('ok');
    expect(line(good, 'restore.sdn')?.status).toBe('ok');
    // Sys.Modify on / is only for privileged containers: said, not required.
    expect(line(good, 'restore.privileged')?.status).toBe('warn');
  }, 90_000);

  it('fails a staging storage that prunes (keep-last=1), exit 1', async () => {
    const w = await startWorld({
      flavour: '9.1',
      auth: 'token',
      nodes: nodes(),
      access: { storageConfig: { 'ftp-staging': { pruneBackups: 'keep-last=1' } } },
    });
    worlds.push(w);
    const r = await doctor(w, '--json');
    expect(r.code, r.stderr).toBe(1);
    expect(failed(jsonReport<DoctorReport>(r))).toEqual(['pve1 storage.prune']);
    const prune = line(jsonReport<DoctorReport>(r), 'storage.prune', 'pve1');
    expect(prune?.status).toBe('fail');
    expect(prune?.message).toContain('keep-last=1');
    expect(prune?.fix).toBe(
      'keep every archive there: pvesm set ftp-staging --prune-backups keep-all=1',
    );
  }, 60_000);

  it('exits 3 when neither the API nor the NAS can be reached', async () => {
    const w = await startWorld({ flavour: '9.1', auth: 'token', nodes: nodes() });
    worlds.push(w);
    await w.sim.close();
    await w.ftp.close();
    const r = await doctor(w, '--json');
    expect(r.code, r.stderr).toBe(3);
    expect(failed(jsonReport<DoctorReport>(r))).toEqual(['- api', '- nas.reachable']);
  }, 60_000);

  it('says "cannot tell on PVE 3.4" for privileges and vzdump defaults, never guesses', async () => {
    const w = await startWorld({
      flavour: '3.4',
      auth: 'ticket',
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'openvz', name: 'web', status: 'running', archiveSize: 4096 },
          ],
        },
      ],
    });
    worlds.push(w);
    const r = await doctor(w);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'warn  cannot tell on PVE 3.4: privileges (GET /access/permissions exists from PVE 6.1)',
    );
    expect(r.stdout).toContain(
      'warn  cannot tell on PVE 3.4: vzdump defaults (GET /nodes/{node}/vzdump/defaults exists from PVE 6.4)',
    );
    expect(r.stdout).toMatch(/ok {4}ftp-staging: no pruning \(storage\.cfg\)/);
  }, 60_000);
});
