/**
 * Errors of the NAS side. A NasError names the host, the operation and the
 * remote path, and carries the FTP reply code when the server refused; it never
 * carries the password (the session also strips it from any server text, in
 * case a server echoes what it was sent).
 */
import { AppError, ExitCode } from '../errors.js';

/** What an FTP operation was doing when it failed. */
export type NasOperation =
  | 'connect'
  | 'list'
  | 'size'
  | 'exists'
  | 'modifiedAt'
  | 'mkdir'
  | 'rename'
  | 'removeDir'
  | 'removeFile'
  | 'read'
  | 'write';

/**
 * Why it failed:
 * - `refused`: the server answered with an error code; the session is still usable;
 * - `connection`: the control connection was lost (or could not be made) and one reconnect did not help;
 * - `aborted`: the run was interrupted (the session was closed on abort);
 * - `closed`: the session was used after close();
 * - `invalid`: the request itself was bad (a relative path, control characters, an oversized file).
 */
export type NasFailure = 'refused' | 'connection' | 'aborted' | 'closed' | 'invalid';

export interface NasErrorDetails {
  host: string;
  port: number;
  operation: NasOperation;
  path?: string;
  failure: NasFailure;
  /** FTP reply code when the server refused. */
  ftpCode?: number;
  cause?: unknown;
}

/** A failed FTP operation against the NAS. */
export class NasError extends AppError {
  readonly host: string;
  readonly port: number;
  readonly operation: NasOperation;
  readonly path: string | undefined;
  readonly failure: NasFailure;
  readonly ftpCode: number | undefined;

  constructor(reason: string, d: NasErrorDetails) {
    const where = d.path === undefined ? '' : ` ${JSON.stringify(d.path)}`;
    super(
      `FTP ${d.operation}${where} on ${d.host}:${d.port} failed: ${reason}`,
      // Interrupts exit 130; anything else is for the caller to fold into a node result.
      d.failure === 'aborted' ? ExitCode.interrupted : ExitCode.nothingDone,
      { cause: d.cause },
    );
    this.host = d.host;
    this.port = d.port;
    this.operation = d.operation;
    this.path = d.path;
    this.failure = d.failure;
    this.ftpCode = d.ftpCode;
  }
}

/**
 * A name (from the API or the config) that could escape its directory or
 * corrupt an FTP command: empty, `.`, `..`, a slash or a control character.
 */
export class UnsafeNameError extends AppError {
  readonly value: string;
  constructor(what: string, value: string, why: string) {
    super(`refusing ${what} ${JSON.stringify(value)}: ${why}`, ExitCode.partialFailure);
    this.value = value;
  }
}
