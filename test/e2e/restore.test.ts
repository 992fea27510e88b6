/**
 * `restore` through the BUILT CLI, the way an admin does it: a real run
 * backs the guests up (the simulator writes real archives, the real hook
 * uploads them); `restore` finds the copy in the manifests, prints the fetch
 * command, and the test — playing the admin on the node — runs the REAL
 * hook's `fetch` there (with the simulated node's `pvesm`); the restore task
 * reads the archive back and the guest exists with the backed-up config. The
 * refusals happen before anything is done; a corrupt archive fails the task
 * and the staging copy stays; PVE 3.4 restores OpenVZ.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestoreReport } from '../../src/restore/runRestore.js';
import { type CliResult, ensureBuilt, jsonReport, runCli, startCli } from './support/cli.js';
import { archives, DEMO_FTP_DIR, startWorld, type World } from './support/world.js';

const KiB = 1024;
const HOOK_PATH = '/usr/local/lib/pve-ftp-backup/hook';

/** Runs the installed hook's `fetch` on `node` as root would (returns its output and exit code). */
function adminFetch(
  world: World,
  node: string,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  return world.sim.pvesm(node).then(
    (pvesm) =>
      new Promise((resolve, reject) => {
        const child = spawn(join(world.tmp, 'hook', 'pve-ftp-backup-hook'), ['fetch', ...args], {
          env: {
            PVE_FTP_BACKUP_HOOK_CONF: world.hookConfPath(node),
            PVE_FTP_BACKUP_HOOK_PVESM: pvesm,
            TMPDIR: world.tmp,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          output += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      }),
  );
}

/**
 * `restore …` while playing the admin: once the CLI printed the fetch command,
 * run it on the target node. Returns the CLI's result and the fetch's output.
 */
async function restoreWithFetch(
  world: World,
  node: string,
  args: string[],
): Promise<{ cli: CliResult; fetch?: { code: number | null; output: string } }> {
  const run = startCli(['restore', '-c', world.configPath, ...args], {
    env: world.env,
    cwd: world.tmp,
    timeoutMs: 90_000,
  });
  let fetched: Promise<{ code: number | null; output: string }> | undefined;
  let seen = '';
  // Text mode prints the command on stdout, --json on stderr.
  const watch = (d: Buffer) => {
    seen += d.toString();
    const line = seen.split('\n').find((l) => l.startsWith(`${HOOK_PATH} fetch `));
    if (line && !fetched) fetched = adminFetch(world, node, line.split(' ').slice(2));
  };
  run.child.stdout?.on('data', watch);
  run.child.stderr?.on('data', watch);
  const cli = await run.done;
  return { cli, ...(fetched ? { fetch: await fetched } : {}) };
}

const dump = (world: World, node: string) => readdir(world.sim.dumpDir(node));
const restorePosts = (world: World) =>
  world.sim.requests.filter(
    (r) => r.method === 'POST' && /^\/nodes\/[^/]+\/(lxc|qemu|openvz)$/.test(r.path),
  );

describe('restore on PVE 9.1', () => {
  let world: World;

  beforeAll(async () => {
    await ensureBuilt();
    world = await startWorld({
      flavour: '9.1',
      auth: 'token',
      backupDurationMs: 50,
      backup: { guests: 'all', types: ['lxc', 'qemu'] },
      nodes: [
        {
          name: 'pve1',
          guests: [
            { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 96 * KiB + 1 },
            { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 80 * KiB + 2 },
            { vmid: 103, type: 'lxc', name: 'cache', status: 'stopped', archiveSize: 70 * KiB + 3 },
            { vmid: 105, type: 'qemu', name: 'win', status: 'running', archiveSize: 120 * KiB + 5 },
          ],
        },
        { name: 'pve2', guests: [] },
      ],
    });
    const r = await runCli(['run', '-c', world.configPath], { env: world.env, cwd: world.tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(archives(await dump(world, 'pve1'))).toEqual([]);
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  it('restores the newest copy as a new guest after the admin ran the printed fetch; the staging copy goes', async () => {
    const { cli, fetch } = await restoreWithFetch(world, 'pve1', [
      '--node',
      'pve1',
      '--vmid',
      '101',
      '--to-vmid',
      '201',
    ]);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(fetch?.code, fetch?.output).toBe(0);
    expect(fetch?.output).toMatch(
      /fetched vzdump-lxc-101-\S+\.tar\.zst \(\d+ bytes, sha256 matches\)/,
    );
    // The fetch command is a line of its own, exactly as documented.
    expect(cli.stdout).toMatch(
      new RegExp(`^${HOOK_PATH} fetch daily\\.0 vzdump-lxc-101-[0-9_-]+\\.tar\\.zst$`, 'm'),
    );
    expect(cli.stdout).toMatch(
      /^restored: guest 201 on node pve1 \(task OK\); staging copy deleted$/m,
    );
    const restored = world.sim.guest(201);
    expect(restored?.node).toBe('pve1');
    expect(restored?.guest).toMatchObject({ type: 'lxc', status: 'stopped', name: 'ct101' });
    expect(restored?.guest.config).toContain('hostname: ct101\n');
    expect(archives(await dump(world, 'pve1'))).toEqual([]);
    // The original is untouched.
    expect(world.sim.guest(101)?.guest).toMatchObject({ status: 'running', name: 'web' });
  }, 120_000);

  it('restores onto another node with --to-node: the fetch takes --from-node', async () => {
    const { cli, fetch } = await restoreWithFetch(world, 'pve2', [
      '--node',
      'pve1',
      '--vmid',
      '102',
      '--to-vmid',
      '202',
      '--to-node',
      'pve2',
      '--json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(fetch?.code, fetch?.output).toBe(0);
    const report = jsonReport<RestoreReport>(cli);
    expect(report.staging.fetchCommand).toMatch(
      new RegExp(`^${HOOK_PATH} fetch --from-node pve1 daily\\.0 vzdump-lxc-102-`),
    );
    expect(report).toMatchObject({
      exitCode: 0,
      target: { node: 'pve2', vmid: 202, type: 'lxc' },
      task: { ok: true, exitstatus: 'OK' },
      staging: { copy: 'deleted' },
    });
    // With --json the command went to stderr, still on a line of its own.
    expect(cli.stderr).toMatch(new RegExp(`^${HOOK_PATH} fetch --from-node pve1 `, 'm'));
    expect(world.sim.guest(202)).toMatchObject({ node: 'pve2', guest: { name: 'ct102' } });
    expect(archives(await dump(world, 'pve2'))).toEqual([]);
  }, 120_000);

  it('refuses an existing id without --force and a running guest with it: exit 2, nothing done', async () => {
    const before = restorePosts(world).length;
    const dumpBefore = await dump(world, 'pve1');
    const exists = await runCli(
      ['restore', '-c', world.configPath, '--node', 'pve1', '--vmid', '101'],
      { env: world.env, cwd: world.tmp },
    );
    expect(exists.code, exists.stderr).toBe(2);
    expect(exists.stderr).toContain("guest 101 (lxc 'web' on node pve1) exists: not overwritten");
    expect(exists.stdout).not.toContain(`${HOOK_PATH} fetch`);
    const running = await runCli(
      ['restore', '-c', world.configPath, '--node', 'pve1', '--vmid', '101', '--force'],
      { env: world.env, cwd: world.tmp },
    );
    expect(running.code, running.stderr).toBe(2);
    expect(running.stderr).toContain("guest 101 (lxc 'web' on node pve1) is running");
    expect(restorePosts(world).length).toBe(before);
    expect(await dump(world, 'pve1')).toEqual(dumpBefore);
    expect(world.sim.guest(101)?.guest).toMatchObject({ status: 'running', name: 'web' });
  }, 60_000);

  it('restores a QEMU copy through /qemu (archive=) onto the storage given', async () => {
    const { cli, fetch } = await restoreWithFetch(world, 'pve1', [
      '--node',
      'pve1',
      '--vmid',
      '105',
      '--to-vmid',
      '205',
      '--storage',
      'local',
    ]);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(fetch?.code, fetch?.output).toBe(0);
    const post = world.sim.requests.filter(
      (r) => r.method === 'POST' && r.path === '/nodes/pve1/qemu',
    );
    expect(post.map((p) => p.body)).toEqual([
      {
        vmid: '205',
        archive: expect.stringMatching(/^ftp-staging:backup\/vzdump-qemu-105-\S+\.vma\.zst$/),
        storage: 'local',
      },
    ]);
    expect(world.sim.guest(205)?.guest).toMatchObject({
      type: 'qemu',
      status: 'stopped',
      name: 'vm105',
    });
    expect(world.sim.guest(205)?.guest.config).toContain('scsi0: local-lvm:vm-105-disk-0,size=32G');
  }, 120_000);

  it('--force overwrites a stopped guest on the same node with its saved copy', async () => {
    const { cli, fetch } = await restoreWithFetch(world, 'pve1', [
      '--node',
      'pve1',
      '--vmid',
      '103',
      '--force',
    ]);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(fetch?.code, fetch?.output).toBe(0);
    expect(cli.stdout).toContain("overwriting the stopped lxc guest 'cache'");
    expect(world.sim.guest(103)?.guest).toMatchObject({ status: 'stopped', name: 'ct103' });
    expect(world.sim.guest(103)?.guest.config).toContain('hostname: ct103\n');
    const post = world.sim.requests
      .filter((r) => r.method === 'POST' && r.path === '/nodes/pve1/lxc')
      .at(-1);
    expect(post?.body).toMatchObject({ vmid: '103', restore: '1', force: '1' });
  }, 120_000);

  it('stops waiting for the archive at --timeout (exit 1) and at Ctrl-C (exit 130), nothing changed', async () => {
    const posts = restorePosts(world).length;
    const timedOut = await runCli(
      [
        'restore',
        '-c',
        world.configPath,
        '--node',
        'pve1',
        '--vmid',
        '101',
        '--to-vmid',
        '501',
        '--timeout',
        '3s',
      ],
      { env: world.env, cwd: world.tmp, timeoutMs: 30_000 },
    );
    expect(timedOut.code, timedOut.stderr).toBe(1);
    expect(timedOut.stderr).toMatch(
      /ftp-staging:backup\/vzdump-lxc-101-\S+ did not appear on node pve1 within 3 s; nothing restored/,
    );
    const run = startCli(
      ['restore', '-c', world.configPath, '--node', 'pve1', '--vmid', '101', '--to-vmid', '502'],
      { env: world.env, cwd: world.tmp, timeoutMs: 30_000 },
    );
    await new Promise<void>((resolve) => {
      let out = '';
      run.child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(`${HOOK_PATH} fetch`)) resolve();
      });
    });
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('stopped waiting for ftp-staging:backup/vzdump-lxc-101-');
    expect(restorePosts(world).length).toBe(posts);
    expect(archives(await dump(world, 'pve1'))).toEqual([]);
    expect(world.sim.guest(501)).toBeUndefined();
    expect(world.sim.guest(502)).toBeUndefined();
  }, 60_000);

  it('--dry-run shows the copy, the target and the fetch command, and changes nothing', async () => {
    const before = world.sim.requests.filter((r) => r.method !== 'GET').length;
    const r = await runCli(
      [
        'restore',
        '-c',
        world.configPath,
        '--node',
        'pve1',
        '--vmid',
        '101',
        '--to-vmid',
        '301',
        '--dry-run',
      ],
      { env: world.env, cwd: world.tmp },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^would restore: guest 101 \(lxc 'web'\) of node pve1 from daily\.0/);
    expect(r.stdout).toMatch(new RegExp(`^${HOOK_PATH} fetch daily\\.0 vzdump-lxc-101-`, 'm'));
    // Only the login-free token auth: no POST, PUT or DELETE at all.
    expect(world.sim.requests.filter((x) => x.method !== 'GET').length).toBe(before);
    expect(world.sim.guest(301)).toBeUndefined();
  }, 60_000);

  it('a corrupt archive on the staging storage fails the restore task: exit 1, the staging copy is kept', async () => {
    // The NAS copy, damaged on the node's disk after it was fetched (same size, a flipped byte).
    const gen = join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'daily.0');
    const name = archives(await readdir(gen)).find((n) => n.includes('-101-'))!;
    const data = await readFile(join(gen, name));
    data[Math.floor(data.length / 2)]! ^= 0xff;
    await writeFile(join(world.sim.dumpDir('pve1'), name), data);
    const r = await runCli(
      ['restore', '-c', world.configPath, '--node', 'pve1', '--vmid', '101', '--to-vmid', '401'],
      { env: world.env, cwd: world.tmp, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(
      /^FAILED: the restore of guest 401 on node pve1 failed: .*unable to restore CT 401 - command .* failed: exit code 2.*; staging copy ftp-staging:backup\/vzdump-lxc-101-\S+ kept$/m,
    );
    expect(await dump(world, 'pve1')).toContain(name);
    expect(world.sim.guest(401)).toBeUndefined();
  }, 60_000);
});

describe('restore on PVE 3.4 (OpenVZ)', () => {
  let world: World;

  beforeAll(async () => {
    await ensureBuilt();
    world = await startWorld({
      flavour: '3.4',
      auth: 'ticket',
      backupDurationMs: 50,
      nodes: [
        {
          name: 'pve1',
          guests: [
            {
              vmid: 101,
              type: 'openvz',
              name: 'old',
              status: 'running',
              archiveSize: 64 * KiB + 5,
            },
          ],
        },
      ],
    });
    const r = await runCli(['run', '-c', world.configPath], { env: world.env, cwd: world.tmp });
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  it('restores an OpenVZ copy through /openvz as a new container', async () => {
    const { cli, fetch } = await restoreWithFetch(world, 'pve1', [
      '--node',
      'pve1',
      '--vmid',
      '101',
      '--to-vmid',
      '150',
    ]);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(fetch?.code, fetch?.output).toBe(0);
    expect(restorePosts(world).map((p) => p.path)).toEqual(['/nodes/pve1/openvz']);
    expect(world.sim.guest(150)?.guest).toMatchObject({ type: 'openvz', name: 'ct101' });
    expect(world.sim.guest(150)?.guest.config).toContain('HOSTNAME="ct101"');
    expect(archives(await dump(world, 'pve1'))).toEqual([]);
  }, 120_000);
});
