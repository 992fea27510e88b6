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

export interface Config {
  clusters: ClusterConfig[];
  ftp: FtpConfig;
  backup: BackupConfig;
  retention: { keep: number };
}
