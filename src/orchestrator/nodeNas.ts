/**
 * The seam between the node runner and the NAS: everything a node run does on
 * the FTP side, bound to one node's session. The runner is written (and unit
 * tested) against this small interface; ftpNodeNas.ts implements it over the
 * real session, lock, verify and rotation modules. The shapes it passes are
 * those modules' own (lock result, verify result, manifest).
 */
import type { LockResult } from '../ftp/lock.js';
import type { Manifest, ManifestGuest } from '../ftp/manifest.js';
import type { VerifyResult } from '../ftp/verify.js';
import type { PveClient } from '../pveApi/index.js';
import type { NasTimings } from './nasTimings.js';
import type { NodeRotationSummary } from './types.js';

/** The API calls a node run makes. */
export type NodeApi = Pick<
  PveClient,
  'startVzdump' | 'taskStatus' | 'taskLog' | 'stopTask' | 'backupContent' | 'deleteVolume'
>;

/** One node's NAS tree over one FTP session (never two commands at once). */
export interface NodeNas {
  /**
   * Take `{dir}/{node}/.lock` (a lease: renew it every `timings.renewEveryMs`; a stale one is
   * taken over); `breakLock` clears a lock held by someone else first.
   */
  lock(breakLock: boolean): Promise<LockResult>;
  /** Heal what an interrupted earlier run left (rotation journal, leftover transfer/); returns the steps done. */
  heal(): Promise<string[]>;
  /** Check files in transfer/ under their final names (size when given). */
  verify(expected: { name: string; size?: number }[]): Promise<VerifyResult[]>;
  /** A small text file in transfer/ (the node's NAME.sha256); undefined when it is not there. */
  readTransferText(name: string): Promise<string | undefined>;
  /** Write the manifest into transfer/ and rotate (when `rotate` and something was saved). */
  finish(manifest: Manifest, rotate: boolean): Promise<NodeRotationSummary>;
  /**
   * Where the NAS holds a file of this name and exactly this size: `transfer`,
   * a generation directory (`daily.0`, `weekly.1`…), or undefined. Looks in
   * transfer/ first, then the generations newest first. Optional so that
   * test doubles without it simply find no copy (the node copy is kept).
   */
  findCopy?(name: string, size: number): Promise<string | undefined>;
  /**
   * Make transfer/ for the hooks (they send no MKD while it exists); no error when it exists.
   * Optional so that test doubles without it need no NAS tree.
   */
  makeTransfer?(): Promise<void>;
  /**
   * Add a saved guest to a generation's manifest (read, add, written aside and
   * renamed over): for an earlier run's archive found there. A generation
   * without a readable manifest throws, and the caller keeps the node copy.
   */
  recordInGeneration?(generation: string, guest: ManifestGuest): Promise<void>;
  /** Lease and NAS timeouts of this node run. */
  readonly timings: NasTimings;
  /**
   * Fires once the NAS stopped answering (a command failed again after the one reconnect);
   * its reason is the NAS error. From then on every NAS call fails at once.
   */
  readonly gone: AbortSignal;
  /** After `gone`: one login with `timeoutMs` (the lock release's last attempt); true when it worked. */
  revive(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Opens the NAS side of one node run. */
export type OpenNodeNas = (node: string) => Promise<NodeNas>;
