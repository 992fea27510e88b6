/**
 * Test harness: a fresh FTP server on 127.0.0.1 per call, of the kind a test
 * asks for. 'embedded' (ftp-srv in this process) works after `npm ci` alone;
 * 'vsftpd', 'pure-ftpd' and 'proftpd' are the real Debian daemons installed by
 * .ci/install-ftp-servers.sh and started in the foreground as in
 * docs/ftp-servers.md. Each server gets its own temp dir (root, config,
 * certificate) that close() removes.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { startEmbeddedFtpServer } from '../../src/demo/embeddedServer.js';
import { startRealFtpServer } from './ftpServersReal.js';

export type FtpServerKind = 'embedded' | 'vsftpd' | 'pure-ftpd' | 'proftpd';

const allKinds: readonly FtpServerKind[] = ['embedded', 'vsftpd', 'pure-ftpd', 'proftpd'];

/** From env PVE_FTP_BACKUP_TEST_SERVERS (comma list); default ['embedded'] (works after `npm ci` alone). */
export function ftpServerKinds(): FtpServerKind[] {
  const raw = process.env.PVE_FTP_BACKUP_TEST_SERVERS?.trim();
  if (!raw) return ['embedded'];
  const kinds = raw
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const kind of kinds) {
    if (!allKinds.includes(kind as FtpServerKind)) {
      throw new Error(
        `PVE_FTP_BACKUP_TEST_SERVERS: unknown server kind "${kind}" (known: ${allKinds.join(', ')})`,
      );
    }
  }
  return kinds as FtpServerKind[];
}

/** Whether a kind supports a reliable explicit FTPS (ftp-srv's TLS is flaky, see docs/ftp-servers.md#tls). */
export function supportsTls(kind: FtpServerKind): boolean {
  return kind !== 'embedded';
}

/** Whether a kind can enforce `quotaBytes` (a "disk full" NAS). */
export function supportsQuota(kind: FtpServerKind): boolean {
  return kind === 'embedded' || kind === 'pure-ftpd';
}

export interface TestFtpServer {
  kind: FtpServerKind;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Local dir that is '/' for the FTP user: seed/inspect files directly. */
  root: string;
  tls: boolean;
  /** PEM certificate of the server when `tls` (self-signed, SAN IP 127.0.0.1): pass as caPem. */
  certPem?: string;
  /** Cut every client's control connection, as a NAS restarting would. Returns how many were cut. */
  dropClients(): Promise<number>;
  close(): Promise<void>;
}

/** Plain-FTP session settings for `server` (or for a relay in front of it, on `port`). */
export function plainSettings(server: TestFtpServer, port = server.port) {
  return { host: server.host, port, user: server.user, password: server.password, secure: false };
}

export interface StartFtpServerOptions {
  /** Refuse writes past this many bytes in total (only where {@link supportsQuota}). */
  quotaBytes?: number;
  /** Offer explicit FTPS (AUTH TLS); plain FTP stays allowed. */
  tls?: boolean;
}

let certCache: Promise<{ key: string; cert: string }> | undefined;

/** One self-signed certificate per test process: RSA keys are slow to make. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  certCache ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return certCache;
}

/** A password that is fresh per server, so a test cannot pass on a leftover login. */
function freshPassword(): string {
  return `pw-${Math.random().toString(36).slice(2, 12)}`;
}

/** Start a fresh server of `kind` with an empty root. Close it in afterEach/afterAll. */
export async function startFtpServer(
  kind: FtpServerKind,
  options: StartFtpServerOptions = {},
): Promise<TestFtpServer> {
  if (options.quotaBytes !== undefined && !supportsQuota(kind)) {
    throw new Error(`${kind}: quotaBytes is not supported (use embedded or pure-ftpd)`);
  }
  const tls = options.tls ?? false;
  const cert = tls ? await testCertificate() : undefined;
  const base = await mkdtemp(join(tmpdir(), `pfb-ftp-${kind}-`));
  try {
    if (kind === 'embedded') {
      const root = join(base, 'root');
      await mkdir(root);
      const user = 'backup';
      const password = freshPassword();
      const server = await startEmbeddedFtpServer({
        root,
        user,
        password,
        ...(cert ? { tls: cert } : {}),
        ...(options.quotaBytes !== undefined ? { quotaBytes: options.quotaBytes } : {}),
      });
      return {
        kind,
        host: server.host,
        port: server.port,
        user,
        password,
        root,
        tls,
        ...(cert ? { certPem: cert.cert } : {}),
        dropClients: async () => server.dropClients(),
        close: async () => {
          await server.close();
          await rm(base, { recursive: true, force: true });
        },
      };
    }
    const real = await startRealFtpServer(kind, {
      base,
      password: freshPassword(),
      ...(cert ? { cert } : {}),
      ...(options.quotaBytes !== undefined ? { quotaBytes: options.quotaBytes } : {}),
    });
    return {
      kind,
      ...real,
      tls,
      ...(cert ? { certPem: cert.cert } : {}),
      close: async () => {
        await real.stop();
        await rm(base, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
}
