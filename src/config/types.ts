/**
 * The validated, normalised configuration the rest of the tool works with.
 * It is not the YAML file's shape (see schema.ts for that): secrets are
 * resolved (`${VAR}`, `secretFile`, `passwordFile`), CA files are read, and
 * every default is filled in.
 */
import type {
  BackupMode,
  Compressor,
  GuestStateFilter,
  GuestType,
  UploadPhase,
} from '../vocabulary.js';

export type { GuestStateFilter };

/** How a cluster authenticates: an API token (PVE >= 6.2) or user + password (ticket). */
export type ClusterAuth =
  | { kind: 'token'; tokenId: string; secret: string }
  | { kind: 'ticket'; username: string; password: string };

export interface ClusterConfig {
  /** Label used in logs, errors and reports; unique. */
  name: string;
  /** `https://host[:port]`, without a trailing slash or path. */
  url: string;
  auth: ClusterAuth;
  tls: { fingerprint?: string; caPem?: string; insecure: boolean };
  /** Restricts the run to these nodes; undefined = every node of the cluster. */
  nodes?: string[];
}

export interface FtpConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Explicit FTPS (AUTH TLS). */
  secure: boolean;
  /** The NAS base directory; each node's tree is `{dir}/{node}`. No trailing slash (except `/`). */
  dir: string;
  /** PEM text of the CA that signed the FTPS certificate (read from `ftp.ca`). */
  caPem?: string;
  insecure: boolean;
  /** The hook's upload rate cap in curl `--limit-rate` syntax (`0`: none, `800k`, `50M`). */
  limitRate?: string;
}

export interface BackupConfig {
  guests: GuestStateFilter;
  types: GuestType[];
  exclude: number[];
  /** Node-local PVE storage id vzdump writes to (the hook acts only on this one). */
  storage: string;
  mode: BackupMode;
  compress: Compressor;
  parallelNodes: number;
  /** Hook phase that uploads: `log-end` (default, guest already released) or `backup-end`. */
  uploadAt: UploadPhase;
}

/** `always`: after every run; `failure`: only when the exit code is not 0. */
export type NotifyWhen = 'always' | 'failure';

/** Where the end of a run is announced (every URL and token is a secret). */
export interface NotifyConfig {
  /** healthchecks.io-style ping URL (its path is the check's secret). */
  healthchecks?: string;
  ntfy?: { url: string; token?: string; on: NotifyWhen };
  webhook?: { url: string; bearer?: string; on: NotifyWhen };
  command?: { run: string[]; on: NotifyWhen };
}

export interface Config {
  clusters: ClusterConfig[];
  ftp: FtpConfig;
  backup: BackupConfig;
  /** Generations per tier (docs/contract.md "Retention"); weekly and monthly 0 = no such tier. */
  retention: { keep: number; weekly?: number; monthly?: number };
  // The three below are always set by loadConfig; optional so a Config built by
  // hand (tests, the demo) need not spell them out.
  notify?: NotifyConfig;
  /** `textfile`: the node_exporter textfile collector file to write after every run. */
  metrics?: { textfile?: string };
  /** `maxAgeSeconds`: a guest whose newest copy is older is stale (`status.maxAge`). */
  status?: { maxAgeSeconds: number };
  /**
   * `lockLease` in ms: a node lock not renewed for this long (NAS clock) is stale.
   * Always set by loadConfig; optional only so that hand-built configs may leave it out
   * (then DEFAULT_LOCK_LEASE_MS applies).
   */
  lockLeaseMs?: number;
}

/** The default `lockLease` (10 minutes). */
export const DEFAULT_LOCK_LEASE_MS = 600_000;
