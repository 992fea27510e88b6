/**
 * The few error classes that cross module boundaries, and how they map to the
 * exit codes of docs/contract.md#exit-codes. Per-guest failures never become exceptions that reach
 * the CLI: the orchestrator folds them into results. What reaches cli.ts is a
 * configuration/usage error (2), a preflight failure (3), an interruption (130)
 * or a bug.
 *
 * Messages name what is wrong (cluster, node, key path, remote path) and never
 * carry a secret: callers must not interpolate tokens, passwords, tickets or
 * CSRF tokens into a message.
 */
import { PveAuthError, PveTlsError } from './pveApi/errors.js';

/** The exit codes of docs/contract.md#exit-codes, by name. */
export const ExitCode = {
  ok: 0,
  partialFailure: 1,
  usage: 2,
  nothingDone: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: an error the user can act on, carrying the exit code it implies. */
export class AppError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad configuration or command line: exit 2, nothing was touched. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/** Nothing could be done (auth, TLS, network, every lock held): exit 3. */
export class PreflightError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.nothingDone, options);
  }
}

/** The run was interrupted by SIGINT/SIGTERM: exit 130. */
export class InterruptedError extends AppError {
  constructor(message = 'interrupted', options?: { cause?: unknown }) {
    super(message, ExitCode.interrupted, options);
  }
}

/**
 * The exit-code rule (docs/contract.md#exit-codes) for how a command ended, the one place it is
 * written: 130 when interrupted; 0 when nothing went wrong; 1 when something
 * failed but real work was done (or something was found wrong while the rest
 * could be read); 3 when nothing could be done at all.
 */
export function outcomeExitCode(outcome: {
  interrupted?: boolean;
  /** Failed or not-started units: guests, nodes, clusters. */
  problems: number;
  /** Whether any unit got done (a guest saved or attempted, a node read). */
  didWork: boolean;
}): ExitCode {
  if (outcome.interrupted) return ExitCode.interrupted;
  if (outcome.problems === 0) return ExitCode.ok;
  return outcome.didWork ? ExitCode.partialFailure : ExitCode.nothingDone;
}

/**
 * Exit code for a value thrown up to the CLI: AppErrors carry theirs; the PVE
 * client's auth and TLS errors (not AppErrors: the client stays independent of
 * the app) mean nothing could be done; an abort after a signal is an
 * interruption. `undefined`: none of these, a bug.
 */
export function exitCodeFor(error: unknown, interrupted: boolean): ExitCode | undefined {
  if (error instanceof AppError) return error.exitCode;
  if (error instanceof PveAuthError || error instanceof PveTlsError) return ExitCode.nothingDone;
  if (interrupted && (error as { name?: unknown } | null)?.name === 'AbortError')
    return ExitCode.interrupted;
  return undefined;
}

/** The message of any thrown value, for messages that name a cause (never for secrets). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
