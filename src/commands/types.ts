/**
 * The seam between the yargs shell (src/cli.ts) and the command implementations.
 * cli.ts parses argv into these option objects, owns the AbortControllers and
 * the logger, calls the command and turns its returned number into the exit
 * status. Commands never read argv, never call process.exit.
 */
import type { GuestStateFilter } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';

export interface GlobalOptions {
  /** `-c FILE`; otherwise PVE_FTP_BACKUP_CONFIG, then the search path of docs/contract.md#commands. */
  config?: string;
  /** `--json`: one JSON document on stdout, logs stay on stderr. */
  json: boolean;
}

export interface RunOptions extends GlobalOptions {
  node: string[];
  vmid: number[];
  guests?: GuestStateFilter;
  dryRun: boolean;
  noRotate: boolean;
  breakLock: boolean;
}

export interface StatusOptions extends GlobalOptions {
  node: string[];
  vmid: number[];
  guests?: GuestStateFilter;
  /** `--max-age` as typed (a duration); default `status.maxAge`. */
  maxAge?: string;
  /** `--html FILE`: also write the self-contained status page there. */
  html?: string;
}

export interface VerifyOptions extends GlobalOptions {
  node: string[];
  vmid: number[];
  /** `daily.0`, `weekly.1`, `all` (default). */
  generation?: string;
  /** Read every archive back (sha256, decompression, content). */
  deep: boolean;
}

/** `restore --node N --vmid V …` (docs/contract.md#restore). */
export interface RestoreOptions extends GlobalOptions {
  /** The node tree on the NAS the copy comes from. */
  node: string;
  vmid: number;
  /** `--from GENERATION`; default the newest saved copy. */
  from?: string;
  /** Default `vmid`. */
  toVmid?: number;
  /** Default `node`. */
  toNode?: string;
  /** Where the restored disks go (PVE's `storage`). */
  storage?: string;
  force: boolean;
  keepArchive: boolean;
  /** How long to wait for the fetched archive, as typed; default 30m. */
  timeout?: string;
  dryRun: boolean;
}

/** `doctor [--node NAME]...`. */
export interface DoctorOptions extends GlobalOptions {
  node: string[];
  /** Also check the privileges a restore needs (run with the restore token's config). */
  restore: boolean;
}

export interface ListOptions extends GlobalOptions {
  node: string[];
}

export interface GenerationsOptions extends GlobalOptions {
  node: string[];
}

export interface HookOptions {
  config?: string;
  /** `--config --node NAME`: print that node's hook.conf instead of the script. */
  printConfig: boolean;
  node?: string;
  /** `--ca-file PATH`: where the FTPS CA certificate lives ON THE NODE (written to hook.conf). */
  caFile?: string;
}

export interface DemoOptions {
  json: boolean;
}

/** What a command that only prints (the hook script, the config schema) gets: no logger, no config. */
export interface PrintContext {
  stdout: NodeJS.WritableStream;
}

export interface CommandContext extends PrintContext {
  stderr: NodeJS.WritableStream;
  /** First SIGINT: start nothing new, let running vzdump tasks finish (also aborted by SIGTERM). */
  signal: AbortSignal;
  /** SIGTERM or a second SIGINT: stop running vzdump tasks through the API, exit within 15 s. */
  forceSignal: AbortSignal;
  logger: Logger;
  /**
   * The run's secrets: what a command learns (the config's secrets, the API client's tickets)
   * goes here, and the logger and stdout hide it from then on.
   */
  redactor: Redactor;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr is a TTY (live progress lines, colour). */
  isTty: boolean;
}

/** A command returns its exit code (see ExitCode in src/errors.ts). */
export type Command<O> = (options: O, ctx: CommandContext) => Promise<number>;

/** A command that only prints; it needs no logger (so none is built: a faster start). */
export type PrintCommand<O> = (options: O, ctx: PrintContext) => Promise<number>;
