/**
 * A complete little world on loopback for the demo, the end-to-end tests and
 * the bench: the PVE simulator with the REAL node hook installed on every node
 * (as an admin would: script path in vzdump.conf, hook.conf with mode 0600),
 * the embedded FTP server as the NAS, and a config file pointing at both with
 * the secrets passed through the environment (`${VAR}`), never in the file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hookScript, renderHookConfig } from '../hook/index.js';
import { type PveSimulator, type SimNode, type SimOptions, startSimulator } from '../sim/index.js';
import { type EmbeddedFtpServer, startEmbeddedFtpServer } from './embeddedServer.js';

export const DEMO_STORAGE = 'ftp-staging';
export const DEMO_FTP_DIR = '/backup/dump';

export interface WorldOptions {
  flavour: SimOptions['flavour'];
  nodes: SimNode[];
  /** `token` (PVE >= 6.2) or `ticket` (user + password; the only way on 3.4). */
  auth: 'token' | 'ticket';
  backupDurationMs?: SimOptions['backupDurationMs'];
  faults?: SimOptions['faults'];
  /** Answers no real PVE gives (tests of hostile input). */
  hostile?: SimOptions['hostile'];
  /** Privileges, storage config and space the simulator answers (`doctor`). */
  access?: SimOptions['access'];
  /** Refuse FTP writes past this many bytes (a full NAS). */
  ftpQuotaBytes?: number;
  /** Uploads the embedded FTP server refuses with 550 (tests: fail one guest's upload). */
  ftpRefuseWrite?: (path: string) => boolean;
  /** Install the hook on the nodes (default true). */
  installHook?: boolean;
  /** Merged into the generated config (backup.*, retention.*). */
  backup?: Record<string, unknown>;
  keep?: number;
  /** Where the FTP server keeps its files; default a fresh dir inside the world's temp dir. */
  ftpRoot?: string;
  /**
   * Overrides of hook.conf's tuning keys (`retries`, `retry_delay`, `connect_timeout`,
   * `stall_timeout`; defaults 3, 10, 30, 120 s): tests make failures fast.
   */
  hookTuning?: Partial<
    Record<'retries' | 'retry_delay' | 'connect_timeout' | 'stall_timeout', number>
  >;
}

export interface World {
  sim: PveSimulator;
  ftp: EmbeddedFtpServer;
  /** Local directory that is `/` on the FTP server. */
  ftpRoot: string;
  /** Temp dir holding config, hook, hook confs and the FTP root; removed by close(). */
  tmp: string;
  configPath: string;
  /** Environment the config's `${VAR}`s need (the secrets). */
  env: Record<string, string>;
  /** The hook.conf installed on a node (tests edit it to break that node's uploads). */
  hookConfPath(node: string): string;
  /** Rewrite the config with changes (deep-merged at the top level sections). */
  writeConfig(changes?: Record<string, Record<string, unknown> | unknown[]>): Promise<string>;
  close(): Promise<void>;
}

const TOKEN_ID = 'backup@pve!nightly';
const USER = 'root@pam';
/** `${NAME}` as the config file spells an environment reference. */
const envRef = (name: string) => `\${${name}}`;

/** Start simulator + FTP server + hook + config. Everything on 127.0.0.1, ports from the OS. */
export async function startWorld(o: WorldOptions): Promise<World> {
  const tmp = await mkdtemp(join(tmpdir(), 'pve-ftp-backup-world-'));
  const ftpRoot = o.ftpRoot ?? join(tmp, 'nas');
  await mkdir(ftpRoot, { recursive: true });
  const ftpUser = 'backup';
  const ftpPassword = randomBytes(12).toString('hex');
  const pveSecret = o.auth === 'token' ? randomUUID() : randomBytes(12).toString('hex');
  let sim: PveSimulator | undefined;
  let ftp: EmbeddedFtpServer | undefined;
  try {
    ftp = await startEmbeddedFtpServer({
      root: ftpRoot,
      user: ftpUser,
      password: ftpPassword,
      ...(o.ftpQuotaBytes !== undefined ? { quotaBytes: o.ftpQuotaBytes } : {}),
      ...(o.ftpRefuseWrite !== undefined ? { refuseWrite: o.ftpRefuseWrite } : {}),
    });
    const nodes =
      o.installHook === false
        ? o.nodes
        : await installHook(tmp, o.nodes, ftp, ftpUser, ftpPassword, o.hookTuning);
    sim = await startSimulator({
      flavour: o.flavour,
      nodes,
      ...(o.auth === 'token'
        ? { tokens: [{ id: TOKEN_ID, secret: pveSecret }] }
        : { users: [{ userid: USER, password: pveSecret }] }),
      dumpRoot: join(tmp, 'pve'),
      authFailureDelayMs: 50,
      ...(o.backupDurationMs !== undefined ? { backupDurationMs: o.backupDurationMs } : {}),
      ...(o.faults ? { faults: o.faults } : {}),
      ...(o.hostile ? { hostile: o.hostile } : {}),
      ...(o.access ? { access: o.access } : {}),
    });
    const configPath = join(tmp, 'pve-ftp-backup.yaml');
    const base = {
      clusters: [
        {
          name: 'demo',
          url: sim.url,
          auth:
            o.auth === 'token'
              ? { token: TOKEN_ID, secret: envRef('PVE_TOKEN_SECRET') }
              : { user: USER, password: envRef('PVE_PASSWORD') },
          tls: { fingerprint: sim.fingerprint },
        },
      ],
      ftp: {
        host: ftp.host,
        port: ftp.port,
        user: ftpUser,
        password: envRef('FTP_PASSWORD'),
        secure: false,
        dir: DEMO_FTP_DIR,
      },
      backup: {
        guests: 'running',
        types: ['lxc', 'openvz'],
        storage: DEMO_STORAGE,
        mode: 'snapshot',
        compress: o.flavour === '3.4' ? 'lzo' : 'zstd',
        parallelNodes: 2,
        ...o.backup,
      },
      retention: { keep: o.keep ?? 3 },
    };
    const writeConfig = async (
      changes: Record<string, Record<string, unknown> | unknown[]> = {},
    ) => {
      const merged: Record<string, unknown> = { ...base };
      for (const [k, v] of Object.entries(changes)) {
        const current = merged[k];
        merged[k] =
          Array.isArray(v) || typeof current !== 'object' || Array.isArray(current)
            ? v
            : { ...(current as object), ...v };
      }
      await writeFile(configPath, stringify(merged), { mode: 0o600 });
      return configPath;
    };
    await writeConfig();
    const env: Record<string, string> = { FTP_PASSWORD: ftpPassword };
    if (o.auth === 'token') env.PVE_TOKEN_SECRET = pveSecret;
    else env.PVE_PASSWORD = pveSecret;
    const started = { sim, ftp };
    return {
      sim,
      ftp,
      ftpRoot,
      tmp,
      configPath,
      env,
      hookConfPath: (node) => join(tmp, 'hook', `${node}.conf`),
      writeConfig,
      async close() {
        await started.sim.close().catch(() => {});
        await started.ftp.close().catch(() => {});
        await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sim?.close().catch(() => {});
    await ftp?.close().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Install the real hook on each node: script 0755, that node's hook.conf 0600. */
async function installHook(
  tmp: string,
  nodes: SimNode[],
  ftp: EmbeddedFtpServer,
  user: string,
  password: string,
  tuning: WorldOptions['hookTuning'] = {},
): Promise<SimNode[]> {
  const hookDir = join(tmp, 'hook');
  await mkdir(hookDir, { recursive: true, mode: 0o700 });
  const script = join(hookDir, 'pve-ftp-backup-hook');
  await writeFile(script, hookScript(), { mode: 0o755 });
  await chmod(script, 0o755);
  const out: SimNode[] = [];
  for (const node of nodes) {
    const conf = join(hookDir, `${node.name}.conf`);
    let text = renderHookConfig({
      node: node.name,
      ftp: { host: ftp.host, port: ftp.port, user, password, secure: false, dir: DEMO_FTP_DIR },
      storage: DEMO_STORAGE,
      uploadAt: 'log-end',
    });
    for (const [key, value] of Object.entries(tuning)) {
      text = text.replace(new RegExp(`^${key}=\\d+$`, 'm'), `${key}=${value}`);
    }
    await writeFile(conf, text, { mode: 0o600 });
    out.push({
      ...node,
      vzdumpConf: { ...node.vzdumpConf, script },
      hookEnv: { ...node.hookEnv, PVE_FTP_BACKUP_HOOK_CONF: conf },
    });
  }
  return out;
}
