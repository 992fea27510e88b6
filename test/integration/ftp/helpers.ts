/**
 * Shared setup of the FTP integration tests: the server kinds × modes matrix
 * (plain, and explicit FTPS where the server does it reliably) and sessions
 * opened against a harness server.
 */

import { type FtpSettings, type NasSession, openNasSession } from '../../../src/ftp/session.js';
import type { Logger } from '../../../src/log.js';
import { silentLogger } from '../../../src/log.js';
import {
  type FtpServerKind,
  ftpServerKinds,
  supportsTls,
  type TestFtpServer,
} from '../../support/ftpServers.js';

export interface Mode {
  kind: FtpServerKind;
  tls: boolean;
  label: string;
}

/** Every selected server kind in plain mode, plus FTPS where supported. */
export function modes(): Mode[] {
  return ftpServerKinds().flatMap((kind) => [
    { kind, tls: false, label: `${kind} plain` },
    ...(supportsTls(kind) ? [{ kind, tls: true, label: `${kind} FTPS` }] : []),
  ]);
}

export function settingsFor(
  server: TestFtpServer,
  tls: boolean,
  extra: Partial<FtpSettings> = {},
): FtpSettings {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: tls,
    ...(tls && server.certPem ? { caPem: server.certPem } : {}),
    timeoutMs: 5000,
    ...extra,
  };
}

/** Sessions opened through this are closed by closeAll(). */
export class Sessions {
  readonly #open: NasSession[] = [];
  async open(
    server: TestFtpServer,
    tls: boolean,
    o: { logger?: Logger; signal?: AbortSignal; settings?: Partial<FtpSettings> } = {},
  ): Promise<NasSession> {
    const s = await openNasSession(
      settingsFor(server, tls, o.settings),
      o.logger ?? silentLogger(),
      o.signal,
    );
    this.#open.push(s);
    return s;
  }
  closeAll(): void {
    for (const s of this.#open.splice(0)) s.close();
  }
}

let counter = 0;
/** A fresh directory name per test, so tests can share one server. */
export function freshDir(prefix = 't'): string {
  counter += 1;
  return `/${prefix}-${process.pid}-${counter}`;
}
