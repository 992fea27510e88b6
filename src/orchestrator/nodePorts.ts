/**
 * The seam between the node runner and the NAS: everything a node run does on
 * the FTP side, bound to one node's session. The runner is written (and unit
 * tested) against this small interface; nasAdapter.ts implements it over the
 * real session, lock, verify and rotation modules.
 */
import type { GuestType, PveClient } from '../pveApi/index.js';
import type { NodeRotationSummary } from './types.js';

/** The API calls a node run makes. */
export type NodeApi = Pick<
  PveClient,
  'startVzdump' | 'taskStatus' | 'taskLog' | 'stopTask' | 'backupContent' | 'deleteVolume'
>;

export interface LockHolder {
  runId?: string;
  host?: string;
  pid?: number;
  startedAt?: string;
}

export type LockAttempt =
  | { acquired: true; release(): Promise<void> }
  | { acquired: false; holder?: LockHolder; message: string };

export interface FileCheck {
  name: string;
  ok: boolean;
  expectedSize?: number;
  actualSize?: number;
  problem?: string;
}

/** DESIGN.md's manifest.json, version 1. */
export interface ManifestDoc {
  version: 1;
  runId: string;
  node: string;
  cluster: string;
  pveVersion: string;
  startedAt: string;
  finishedAt: string;
  guests: {
    vmid: number;
    type: GuestType;
    name?: string;
    status: 'saved' | 'failed';
    error?: string;
    warnings?: string[];
    files: { name: string; size: number }[];
  }[];
}

/** One node's NAS tree over one FTP session (never two commands at once). */
export interface NodeNas {
  /** Take `{dir}/{node}/.lock`; `breakLock` clears a lock held by someone else first. */
  lock(breakLock: boolean): Promise<LockAttempt>;
  /** Heal what an interrupted earlier run left (rotation journal, leftover transfer/); returns the steps done. */
  heal(): Promise<string[]>;
  /** Check files in transfer/ under their final names (size when given). */
  verify(expected: { name: string; size?: number }[]): Promise<FileCheck[]>;
  /** Write the manifest into transfer/ and rotate (when `rotate` and something was saved). */
  finish(manifest: ManifestDoc, rotate: boolean): Promise<NodeRotationSummary>;
  close(): void;
}

/** Opens the NAS side of one node run. */
export type OpenNodeNas = (node: string) => Promise<NodeNas>;
