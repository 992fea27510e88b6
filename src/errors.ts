/**
 * The few error classes that cross module boundaries, and how they map to the
 * exit codes of DESIGN.md. Per-guest failures never become exceptions that reach
 * the CLI: the orchestrator folds them into results. What reaches cli.ts is a
 * configuration/usage error (2), a preflight failure (3), an interruption (130)
 * or a bug.
 *
 * Messages name what is wrong (cluster, node, key path, remote path) and never
 * carry a secret: callers must not interpolate tokens, passwords, tickets or
 * CSRF tokens into a message.
 */

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

/** Exit code for any thrown value: AppErrors carry theirs; anything else is a bug (exit 1). */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof AppError ? error.exitCode : ExitCode.partialFailure;
}

/** The message of any thrown value, for messages that name a cause (never for secrets). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
