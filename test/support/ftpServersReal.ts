/**
 * The real Debian FTP daemons for the test harness (see ftpServers.ts), run in
 * the foreground as root with configuration generated into the server's temp
 * dir, following the recipes of docs/ftp-servers.md.
 *
 * Binaries come from .ci/install-ftp-servers.sh ($PVE_FTP_BACKUP_FTP_SERVERS_DIR,
 * default /opt/pve-ftp-backup-test/ftp-servers/<name>/), else from PATH.
 *
 * Logins map to the locked system user `pfbftp`; each server checks its own
 * fresh password (vsftpd: a per-server PAM service with pam_pwdfile; proftpd:
 * AuthUserFile; pure-ftpd: PureDB), so no password is ever set on a system
 * account and parallel test files cannot race on one. The root dir carries a
 * default ACL granting `pfbftp` rwx, so files a test seeds as root stay
 * renamable and removable over FTP.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FtpServerKind } from './ftpServers.js';
import { proftpdConfig, pureFtpdArgs, vsftpdConfig } from './ftpServersRealConfig.js';

const run = promisify(execFile);
const serversDir =
  process.env.PVE_FTP_BACKUP_FTP_SERVERS_DIR ?? '/opt/pve-ftp-backup-test/ftp-servers';
const systemUser = 'pfbftp';
const host = '127.0.0.1';

/** Daemons and PAM files still live; reaped if the test process exits without close(). */
const live = new Set<ChildProcess>();
const pamFiles = new Set<string>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const file of pamFiles) rmSync(file, { force: true });
});

export interface RealServerOptions {
  base: string;
  password: string;
  cert?: { key: string; cert: string };
  quotaBytes?: number;
}

export interface RealServer {
  host: string;
  port: number;
  user: string;
  password: string;
  root: string;
  dropClients(): Promise<number>;
  stop(): Promise<void>;
}

/** A binary from the extracted packages, else from PATH. */
function binary(kind: string, relative: string): string {
  const extracted = join(serversDir, kind, relative);
  if (existsSync(extracted)) return extracted;
  const name = relative.split('/').pop() ?? relative;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(
    `${name} not found in ${join(serversDir, kind)} or PATH: run .ci/install-ftp-servers.sh`,
  );
}

/** A port the OS considers free right now (the daemon binds it a moment later; retried on failure). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A random passive range of 100 ports; the daemons skip ports in use within it. */
function passiveRange(): [number, number] {
  const low = 30000 + Math.floor(Math.random() * 300) * 100;
  return [low, low + 99];
}

/** Read the greeting once; true when it starts with 220. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('220')));
  });
}

/** Poll until the daemon greets (bounded: 100 × 50 ms) or exits. */
async function waitReady(
  child: ChildProcess,
  port: number,
  what: string,
  log: () => Promise<string>,
) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${await log()}`);
    }
    if (await greets(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not greet with 220 on port ${port} within 5 s: ${await log()}`);
}

/** All descendants of a pid, from /proc (the per-session processes the daemons fork). */
async function descendants(pid: number): Promise<number[]> {
  let children: number[] = [];
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    children = text.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  const nested = await Promise.all(children.map(descendants));
  return [...children, ...nested.flat()];
}

async function hashPassword(password: string): Promise<string> {
  // -stdin keeps the password off the argument list.
  const child = execFile('openssl', ['passwd', '-6', '-stdin']);
  child.stdin?.end(`${password}\n`);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error('openssl passwd failed')),
    );
  });
  return out.trim();
}

async function systemIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('getent', ['passwd', systemUser]).catch(() => {
    throw new Error(`system user ${systemUser} missing: run .ci/install-ftp-servers.sh`);
  });
  const fields = stdout.trim().split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Start a real daemon of `kind` in the foreground; resolves once it greets with 220. */
export async function startRealFtpServer(
  kind: Exclude<FtpServerKind, 'embedded'>,
  options: RealServerOptions,
): Promise<RealServer> {
  if (process.getuid?.() !== 0) throw new Error(`${kind}: the real FTP servers need root`);
  const { base, password, cert } = options;
  const ids = await systemIds();
  await chmod(base, 0o755); // the daemons' unprivileged processes must reach root/ under it
  const root = join(base, 'root');
  await mkdir(root);
  await run('chown', [`${ids.uid}:${ids.gid}`, root]);
  await run('setfacl', ['-m', `u:${systemUser}:rwx,d:u:${systemUser}:rwx`, root]);
  if (cert) {
    await writeFile(join(base, 'key.pem'), cert.key, { mode: 0o600 });
    await writeFile(join(base, 'cert.pem'), cert.cert);
    await writeFile(join(base, 'combined.pem'), cert.key + cert.cert, { mode: 0o600 });
  }
  const logFile = join(base, 'server.log');
  const readLog = () => readFile(logFile, 'utf8').catch(() => '(no log)');
  const id = randomBytes(6).toString('hex');
  let user = systemUser;
  let cleanup: () => Promise<void> = async () => undefined;

  const start = async (port: number): Promise<ChildProcess> => {
    const passive = passiveRange();
    if (kind === 'vsftpd') {
      const pamService = `pfb-vsftpd-${id}`;
      const pwdfile = join(base, 'vsftpd.passwd');
      await writeFile(pwdfile, `${systemUser}:${await hashPassword(password)}\n`, { mode: 0o600 });
      const pamFile = `/etc/pam.d/${pamService}`;
      pamFiles.add(pamFile);
      await writeFile(
        pamFile,
        `auth required pam_pwdfile.so nodelay pwdfile=${pwdfile}\naccount required pam_permit.so\nsession required pam_permit.so\n`,
      );
      cleanup = async () => {
        await rm(pamFile, { force: true });
        pamFiles.delete(pamFile);
      };
      await mkdir(join(base, 'empty'), { mode: 0o755, recursive: true });
      const file = join(base, 'vsftpd.conf');
      await writeFile(
        file,
        vsftpdConfig({ port, root, passive, pamService, base, logFile, tls: Boolean(cert) }),
      );
      return spawn(binary('vsftpd', 'usr/sbin/vsftpd'), [file], { stdio: 'ignore' });
    }
    if (kind === 'proftpd') {
      user = 'pfbtest';
      const hash = await hashPassword(password);
      await writeFile(
        join(base, 'passwd'),
        `${user}:${hash}:${ids.uid}:${ids.gid}::${root}:/bin/sh\n`,
        {
          mode: 0o600,
        },
      );
      await writeFile(join(base, 'group'), `${systemUser}:x:${ids.gid}:\n`, { mode: 0o644 });
      const file = join(base, 'proftpd.conf');
      const modules = join(serversDir, 'proftpd', 'usr/lib/proftpd');
      await writeFile(
        file,
        proftpdConfig({ port, passive, base, logFile, modules, tls: Boolean(cert) }),
      );
      return spawn(binary('proftpd', 'usr/sbin/proftpd'), ['-n', '-q', '-c', file], {
        stdio: 'ignore',
      });
    }
    user = 'pfbtest';
    // Write the PureDB source line ourselves: pure-pw's default argon2id hash makes every
    // login take ~4 s (docs/ftp-servers.md#pure-ftpd-login); SHA-512 crypt takes milliseconds.
    const hash = await hashPassword(password);
    const quota = options.quotaBytes ?? '';
    const passwd = join(base, 'pureftpd.passwd');
    const pdb = join(base, 'pureftpd.pdb');
    await writeFile(
      passwd,
      `${user}:${hash}:${ids.uid}:${ids.gid}::${root}/./:::::::${quota}:::::\n`,
      {
        mode: 0o600,
      },
    );
    await run(binary('pure-ftpd', 'usr/bin/pure-pw'), ['mkdb', pdb, '-f', passwd]);
    return spawn(
      binary('pure-ftpd', 'usr/sbin/pure-ftpd'),
      pureFtpdArgs({
        port,
        passive,
        pdb,
        base,
        minUid: Math.min(ids.uid, 1000),
        quota: options.quotaBytes !== undefined,
        tls: Boolean(cert),
      }),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  };

  let lastError: unknown;
  // A port found free can be taken before the daemon binds it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = await start(port);
    live.add(child);
    child.once('exit', () => live.delete(child));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await waitReady(child, port, kind, async () => `${stderr}${await readLog()}`);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      await cleanup();
      continue;
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    return {
      host,
      port,
      user,
      password,
      root,
      async dropClients() {
        if (child.pid === undefined) return 0;
        const pids = await descendants(child.pid);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return pids.length;
      },
      async stop() {
        const pids = child.pid === undefined ? [] : await descendants(child.pid);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await cleanup();
      },
    };
  }
  throw lastError;
}
