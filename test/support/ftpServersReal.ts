/**
 * The real Debian FTP daemons for the test harness (see ftpServers.ts).
 */
import type { FtpServerKind } from './ftpServers.js';

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

/** Start a real daemon of `kind` in the foreground; resolves once it greets with 220. */
export async function startRealFtpServer(
  kind: Exclude<FtpServerKind, 'embedded'>,
  _options: RealServerOptions,
): Promise<RealServer> {
  throw new Error(`${kind}: real FTP servers are not wired up yet`);
}
