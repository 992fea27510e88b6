/**
 * The seam between the node runner and the NAS: everything a node run does on
 * the FTP side, bound to one node's session. The runner is written (and unit
 * tested) against this small interface; ftpNodeNas.ts implements it over the
 * real session, lock, verify and rotation modules. The shapes it passes are
 * those modules' own (lock result, verify result, manifest).
 */
import type { LockResult } from '../ftp/lock.js';
import type { Manifest } from '../ftp/manifest.js';
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
  /** Write the manifest into transfer/ and rotate (when `rotate` and something was saved). */
  finish(manifest: Manifest, rotate: boolean): Promise<NodeRotationSummary>;
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
