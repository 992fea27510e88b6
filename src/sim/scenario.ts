/**
 * What a simulated Proxmox VE cluster looks like: the contract between the
 * simulator (src/sim) and everything that drives it (client tests, hook tests,
 * end-to-end tests, demo, bench). Faithful to docs/pve-facts.md;
 * where a field deviates from real PVE for testability, its comment says so.
 */

import type { SimAccess } from './scenarioAccess.js';

/** PVE releases the simulator can imitate; keys of vzdump-params.json `presentIn`. */
export type SimFlavour = '3.4' | '8.4' | '9.1';

export type GuestType = 'openvz' | 'lxc' | 'qemu';

export interface SimGuest {
  vmid: number;
  type: GuestType;
  name?: string;
  /** `mounted` exists only for OpenVZ (3.x). */
  status: 'running' | 'stopped' | 'mounted';
  template?: boolean;
  /** Size in bytes of the archive vzdump writes for this guest. */
  archiveSize: number;
  /** Config lock (e.g. `backup`, `snapshot`): vzdump then fails with `CT is locked (<lock>)`. */
  lock?: string;
  /** The guest's config text, as a restore wrote it from the archive (pct.conf, vps.conf, qemu-server.conf). */
  config?: string;
}

export interface SimStorage {
  id: string;
  /** Whether the storage has content type `backup`; vzdump refuses others. */
  backup: boolean;
}

export interface SimNode {
  name: string;
  /** Default true. An offline node is listed with status `offline`; calls to it answer 595. */
  online?: boolean;
  guests: SimGuest[];
  /** Default: `local` (backup) and `ftp-staging` (backup). */
  storages?: SimStorage[];
  /** `/etc/vzdump.conf` of the node; `script` is the hook path vzdump runs. */
  vzdumpConf?: { script?: string };
  /**
   * Test-only: extra environment for the hook, as a wrapper script on the node
   * would set (real vzdump passes none beyond its own variables).
   */
  hookEnv?: Record<string, string>;
}

export interface SimToken {
  /** `user@realm!tokenid` */
  id: string;
  secret: string;
}

export interface SimUser {
  /** `user@realm` */
  userid: string;
  password: string;
}

/** A burst of failing answers on matching requests, consumed one per request. */
export interface SimHttpFault {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Matched against the path after `/api2/json` (e.g. `/nodes/pve1/lxc`). */
  path: string | RegExp;
  /** 500, 502, 503, 595, 596, ... */
  status: number;
  /** Reason phrase; defaults to the one real PVE sends for that status. */
  reason?: string;
  /** How many matching requests fail before answers are normal again. */
  count: number;
  /**
   * `drop-answer`: the request is processed normally but the connection is
   * destroyed before the answer is written (a lost answer). `status-after`:
   * the request is processed normally, then answered with `status` (pveproxy's
   * forward to pvedaemon failed after the request got through: 596, 597).
   */
  kind?: 'status' | 'drop-answer' | 'status-after';
}

export interface SimSlowPath {
  path: string | RegExp;
  delayMs: number;
}

export interface SimFaults {
  http?: SimHttpFault[];
  slow?: SimSlowPath[];
  /** vzdump of this vmid ends with `ERROR: Backup of VM <vmid> failed - <message>`. */
  failBackup?: { vmid: number; message: string }[];
}

/**
 * Test-only: answers no real PVE would give, to prove the tool refuses them.
 * Rows are sent verbatim (not validated by the simulator).
 */
export interface SimHostile {
  /** Extra rows appended to `GET /nodes` (e.g. `{ node: '../evil', status: 'online' }`). */
  nodeRows?: Record<string, unknown>[];
  /** Extra rows appended to a node's guest lists (`/nodes/{node}/{lxc|qemu|openvz}`), by node name. */
  guestRows?: Record<string, Record<string, unknown>[]>;
  /** Extra rows appended to a node's backup content listing (any storage), by node name. */
  volumeRows?: Record<string, Record<string, unknown>[]>;
  /** `POST /nodes/{node}/vzdump` answers this text instead of starting a task (e.g. a malformed UPID). */
  vzdumpAnswer?: string;
}

export interface SimOptions {
  flavour: SimFlavour;
  nodes: SimNode[];
  tokens?: SimToken[];
  users?: SimUser[];
  /** Cluster name (`/cluster/status`); default `sim`. */
  clusterName?: string;
  /** Where per-node dump dirs live: `<dumpRoot>/<node>/dump`. Default: a fresh temp dir. */
  dumpRoot?: string;
  /** How long each guest's backup takes inside the task. Default 200 ms. */
  backupDurationMs?: number | ((guest: SimGuest) => number);
  /** PVE delays every 401 by ~3 s; tests shorten it. Default 3000. */
  authFailureDelayMs?: number;
  /** Ticket lifetime in seconds; PVE uses 7200. Tests shorten it to exercise renewal. */
  ticketLifetimeSec?: number;
  faults?: SimFaults;
  hostile?: SimHostile;
  /** Privileges, storage config and space, for the preflight (`doctor`) endpoints. */
  access?: SimAccess;
  /** Host the HTTPS server binds; always loopback. Default 127.0.0.1. */
  host?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path after `/api2/json`, decoded, without the query string. */
  path: string;
  /** The same path as it came over the wire (still percent-encoded). */
  rawPath: string;
  query: Record<string, string | string[]>;
  /** Form-decoded body parameters (POST/PUT/DELETE). */
  body: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  at: number;
}
