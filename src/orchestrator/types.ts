/**
 * Result types of a backup run, shared by the node runner, the report and the
 * commands. Plain data (JSON-serialisable) so the `--json` report is just these
 * objects; no class instances, no Error objects (their messages are copied).
 */
import type { LockInfo } from '../ftp/lock.js';
import type { GuestType } from '../vocabulary.js';

/** What happened to one selected guest. */
export type GuestOutcome =
  /** Archive verified on the NAS (the node copy may still exist: see `nodeCopy`). */
  | 'saved'
  /** vzdump, the upload or the verification failed; the node copy was kept. */
  | 'failed'
  /** Never started because the run was interrupted or its node could not be done. */
  | 'not-started';

export interface FileResult {
  name: string;
  /** Size in bytes as the PVE storage listing reports it (archive) or as found on the NAS (log). */
  size?: number;
  /** The archive's sha256 as the node computed it (from NAME.sha256 beside it). */
  sha256?: string;
}

export interface GuestResult {
  vmid: number;
  type: GuestType;
  name?: string;
  /** Guest state when the run was planned (`running`, `stopped`, `mounted`). */
  state?: string;
  outcome: GuestOutcome;
  /** Why it failed or was not started; never contains a secret. */
  error?: string;
  warnings: string[];
  upid?: string;
  /** The archive vzdump wrote, with the size the API reported for it. */
  archive?: { name: string; size: number; volid: string };
  /** The files verified in transfer/ (archive, and the .log when it arrived). */
  files: FileResult[];
  /**
   * `deleted`: the node-local archive was removed after the NAS copy was verified.
   * `kept`: an archive exists on the node and was left there (failure or delete error).
   * `none`: no archive was produced.
   */
  nodeCopy: 'deleted' | 'kept' | 'none';
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

/** How a node's part of the run ended. */
export type NodeStatus =
  /** Guests were processed (each has its own outcome). */
  | 'done'
  /** Nothing was selected on the node. */
  | 'nothing-to-do'
  | 'offline'
  /** The NAS lock was held by another run; `lockHolder` names it. */
  | 'locked'
  /** The node could not be done (NAS unreachable, healing failed, API error before any guest…). */
  | 'error';

export interface RetainedGeneration {
  name: string;
  reason: string;
}

export interface NodeRotationSummary {
  /** Whether transfer/ became daily.0 in this run. */
  rotated: boolean;
  /** Generation names removed by retention. */
  removed: string[];
  /** Generations promoted into an older tier, e.g. `{ from: 'daily.10', to: 'weekly.0' }`. */
  promoted: { from: string; to: string }[];
  /** Generations kept past their tier's count, with the reason (newest good copy of a guest). */
  retainedPastKeep: RetainedGeneration[];
  /** Human-readable steps done (or, in a dry run, that would be done). */
  steps: string[];
}

export interface NodeResult {
  cluster: string;
  node: string;
  pveVersion?: string;
  status: NodeStatus;
  /** For `offline`, `locked` and `error`: what prevented the node run. */
  reason?: string;
  /** For `locked`: who holds the lock (as read from it). */
  lockHolder?: LockInfo;
  /** A stale lock this run took over: its old holder (when readable) and how long it went unrenewed (NAS clock). */
  lockTakenOver?: { holder?: LockInfo; idleMs: number };
  guests: GuestResult[];
  /** Guests of the node the plan left out, with the reason (not failures). */
  skipped: { vmid: number; type: GuestType; name?: string; reason: string }[];
  /** What healing an earlier interrupted run did at the start. */
  healing?: string[];
  rotation?: NodeRotationSummary;
  /** Problems that do not change the exit code (stale lock release, delete of a node copy…). */
  warnings: string[];
  startedAt?: string;
  finishedAt?: string;
}

/** A cluster that could not be reached or authenticated; its nodes are absent from `nodes`. */
export interface ClusterFailure {
  cluster: string;
  /** `auth`, `tls` or `network`/`api`: what kind of failure (exit 3 when nothing else was done). */
  kind: 'auth' | 'tls' | 'network' | 'api';
  error: string;
}
