/**
 * Runs the hook script the way vzdump does (argv `PHASE MODE VMID`, an
 * environment that holds only vzdump's variables), against a dump dir of
 * fake archives, for the hook tests that do not need the whole simulator.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HookConfigInput, hookScriptPath, renderHookConfig } from '../../../src/hook/index.js';
import type { TestFtpServer } from '../../support/ftpServers.js';

export interface HookRunResult {
  code: number | null;
  signal?: NodeJS.Signals | null;
  /** stdout and stderr interleaved, as vzdump copies both into the task log. */
  output: string;
}

/** A node's dump dir and the hook.conf the hook reads. */
export interface FakeNode {
  base: string;
  dumpDir: string;
  confPath: string;
  /** Writes an archive of `size` random bytes and its .log; returns their paths and contents. */
  backup(
    name: string,
    size: number,
  ): Promise<{ archive: string; log: string; archiveData: Buffer; logData: Buffer }>;
  writeConf(input: HookConfigInput, extra?: string): Promise<void>;
  close(): Promise<void>;
}

export async function fakeNode(dumpDirName = 'dump'): Promise<FakeNode> {
  const base = await mkdtemp(join(tmpdir(), 'pfb-hook-node-'));
  const dumpDir = join(base, dumpDirName);
  await mkdir(dumpDir, { recursive: true });
  const confPath = join(base, 'hook.conf');
  return {
    base,
    dumpDir,
    confPath,
    async backup(name, size) {
      const archive = join(dumpDir, name);
      const log = join(dumpDir, `${name.replace(/\.tar(\.\w+)?$|\.vma(\.\w+)?$/, '')}.log`);
      const archiveData = randomBytes(size);
      const logData = Buffer.from(`INFO: Starting Backup of ${name}\nINFO: Finished\n`);
      await writeFile(archive, archiveData);
      await writeFile(log, logData);
      return { archive, log, archiveData, logData };
    },
    async writeConf(input, extra = '') {
      await writeFile(confPath, renderHookConfig(input) + extra, { mode: 0o600 });
    },
    close: () => rm(base, { recursive: true, force: true }),
  };
}

/** hook.conf input for a test FTP server; fast retries are appended by {@link fastRetries}. */
export function confFor(
  server: TestFtpServer,
  o: { dir?: string; node?: string; storage?: string; uploadAt?: 'log-end' | 'backup-end' } = {},
): HookConfigInput {
  return {
    node: o.node ?? 'pve1',
    storage: o.storage ?? 'ftp-staging',
    uploadAt: o.uploadAt ?? 'log-end',
    ftp: {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: false,
      dir: o.dir ?? '/backup',
    },
  };
}

/**
 * Keeps failure tests fast: one retry after 1 s, short timeouts. curl counts the
 * login into the connect timeout, and pure-ftpd answers a wrong password only
 * after ~4 s: 10 s keeps that a 67, not a 28.
 */
export const fastRetries = 'retries=1\nretry_delay=1\nconnect_timeout=10\nstall_timeout=10\n';

/**
 * Runs the hook with exactly vzdump's argv and environment (plus the conf path,
 * as a wrapper sets it), in its own process group as vzdump does.
 * `stopAfterMs`: SIGTERM the whole group then, as a task stop does.
 * `prelude`: sh commands run first, in the process that then execs the hook
 * (e.g. `ulimit -f 0` to make every file write fail, as a full disk does).
 */
export function runHook(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
  stopAfterMs?: number,
  prelude?: string,
): Promise<HookRunResult> {
  return new Promise((resolve, reject) => {
    const [command, argv] =
      prelude === undefined
        ? [hookScriptPath(), args]
        : ['/bin/sh', ['-c', `${prelude}\nexec "$0" "$@"`, hookScriptPath(), ...args]];
    const child = spawn(command, argv, {
      env: { LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stopTimer =
      stopAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
          }, stopAfterMs);
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`hook did not finish within ${timeoutMs} ms; output so far:\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      clearTimeout(stopTimer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(stopTimer);
      resolve({ code, signal, output });
    });
  });
}

/** vzdump's environment for a guest phase of a backup to `storeId`. */
export function guestEnv(
  node: FakeNode,
  storeId: string,
  files: { archive: string; log: string },
): Record<string, string> {
  return {
    STOREID: storeId,
    DUMPDIR: node.dumpDir,
    VMTYPE: 'lxc',
    HOSTNAME: 'guest-name-not-node',
    TARGET: files.archive,
    LOGFILE: files.log,
    PVE_FTP_BACKUP_HOOK_CONF: node.confPath,
  };
}
