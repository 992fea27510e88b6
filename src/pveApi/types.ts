/**
 * The public shape of the PVE API client (the contract the orchestrator codes
 * against). Implementation in client.ts.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.js';
import type { BackupMode, Compressor, GuestType } from '../vocabulary.js';
import type { PveAuth } from './auth.js';
import type { Timeouts, TlsOptions } from './transport.js';

export type { GuestType };

/** How to reach and authenticate to one cluster. */
export interface PveClientOptions {
  /** Label used in logs and error messages. */
  cluster: string;
  /** `https://host:8006`; the client appends `/api2/json`. */
  baseUrl: string;
  /** API token (`user@realm!name` + secret) or user + password (ticket). */
  auth: PveAuth;
  /** Default: system CAs. Ignored when `dispatcher` is given (TLS is then the dispatcher's). */
  tls?: TlsOptions;
  /**
   * The undici dispatcher to send through; default: an Agent of the client's own with `tls` and
   * `timeouts`, closed by `close()`. A dispatcher passed in is left open for its owner.
   */
  dispatcher?: Dispatcher;
  logger: Logger;
  /** Tests make delays tiny. */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  timeouts?: Timeouts;
  /**
   * Told every secret as it comes into use (the configured one at once, each new ticket and
   * CSRF token), so that the caller's log redaction can hide it. The client logs none itself.
   */
  onSecret?: (secret: string) => void;
  /** Ticket mode: renew the ticket once it is this old (default 1 h; PVE tickets live 2 h). */
  ticketRenewAfterMs?: number;
}

export interface PveGuest {
  vmid: number;
  type: GuestType;
  name?: string;
  status: string;
  template: boolean;
  lock?: string;
}

export interface PveTaskStatus {
  upid: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
}

export interface PveBackupVolume {
  volid: string;
  size: number;
  format?: string;
  vmid?: number;
  ctime?: number;
}

export interface VzdumpParams {
  vmid: number;
  storage: string;
  mode?: BackupMode;
  compress?: Compressor;
  remove?: 0 | 1;
  lockwait?: number;
}

/** A restore of a backup volume (`POST /nodes/{node}/{lxc|openvz|qemu}`, docs/pve-facts.md#restore). */
export interface RestoreParams {
  /** `lxc` (PVE >= 4, also for OpenVZ backups), `openvz` (PVE 3.x), `qemu`. */
  type: GuestType;
  vmid: number;
  /** `storage:backup/file`. */
  volid: string;
  /** Overwrite a stopped guest of that vmid on this node. */
  force?: boolean;
  /** Where the disks go (default: LXC/OpenVZ `local`, QEMU the backup's own storages). */
  storage?: string;
}

export interface PveVersion {
  version: string;
  release: string;
  /** Leading integer of `version`; < 4 means the OpenVZ API (PVE 3.x). */
  major: number;
}

export interface PveClient {
  readonly cluster: string;
  version(signal?: AbortSignal): Promise<PveVersion>;
  nodes(
    signal?: AbortSignal,
  ): Promise<{ node: string; status: 'online' | 'offline' | 'unknown' }[]>;
  clusterResources(signal?: AbortSignal): Promise<
    {
      vmid: number;
      node: string;
      type: GuestType;
      status?: string;
      name?: string;
      template: boolean;
    }[]
  >;
  listGuests(node: string, type: GuestType, signal?: AbortSignal): Promise<PveGuest[]>;
  /** Never blindly re-sent; a non-UPID answer ("OK") means nothing was started. */
  startVzdump(
    node: string,
    params: VzdumpParams,
    signal?: AbortSignal,
  ): Promise<{ upid: string } | { upid: undefined; answer: string }>;
  taskStatus(node: string, upid: string, signal?: AbortSignal): Promise<PveTaskStatus>;
  /** start = lines to skip (next start = last n), limit explicit (never 0). */
  taskLog(
    node: string,
    upid: string,
    start: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<{ lines: { n: number; t: string }[]; total: number }>;
  activeTasks(
    node: string,
    filter: { vmid?: number; type?: string },
    signal?: AbortSignal,
  ): Promise<{ upid: string; type: string; id: string; status?: string; user?: string }[]>;
  stopTask(node: string, upid: string, signal?: AbortSignal): Promise<void>;
  backupContent(node: string, storage: string, signal?: AbortSignal): Promise<PveBackupVolume[]>;
  /** PVE >= 6 returns a UPID of an imgdel task to wait for; older versions return nothing. */
  deleteVolume(
    node: string,
    storage: string,
    volid: string,
    signal?: AbortSignal,
  ): Promise<{ upid?: string }>;
  /** Starts a restore task (vzrestore / qmrestore); never blindly re-sent. */
  restoreGuest(
    node: string,
    params: RestoreParams,
    signal?: AbortSignal,
  ): Promise<{ upid: string }>;
  /** Secrets in use now (token secret, password, ticket, CSRF token), for a redacting log sink. */
  secrets(): string[];
  close(): Promise<void>;
}
