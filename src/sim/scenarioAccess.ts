/**
 * What the simulator needs to answer a preflight (`doctor`): who holds which
 * privilege where (ACLs), the storage configuration beyond "has backup
 * content", and free space. Kept apart from scenario.ts so the preflight
 * world grows without reshaping the scenario every other test builds.
 */

/** Privileges the simulator knows; an authid without ACLs holds them all on `/` (like root@pam). */
export const ALL_PRIVILEGES = [
  'Datastore.Allocate',
  'Datastore.AllocateSpace',
  'Datastore.AllocateTemplate',
  'Datastore.Audit',
  'Sys.Audit',
  'Sys.Modify',
  'Sys.Console',
  'VM.Allocate',
  'VM.Audit',
  'VM.Backup',
  'VM.Config.Disk',
  'VM.PowerMgmt',
] as const;

export interface SimStorageConfig {
  /** `prune-backups` as storage.cfg holds it (`keep-all=1`, `keep-last=1,keep-daily=7`). */
  pruneBackups?: string;
  /** Legacy `maxfiles` (3.x returns it raw; PS 6.2-11 converts it to prune-backups; gone in 9.0.9). */
  maxfiles?: number;
  /** `disable 1` in storage.cfg. */
  disable?: boolean;
  /** The `nodes` restriction; default: every node that lists the storage. */
  nodes?: string[];
}

export interface SimAccess {
  /**
   * ACLs per authid (`user@realm` or `user@realm!token`): ACL path → privileges granted
   * there, propagating to the paths below. For a privsep token write what the
   * intersection of the user's and the token's ACLs gives. An authid not listed holds
   * every privilege on `/`.
   */
  acl?: Record<string, Record<string, string[]>>;
  /** storage.cfg entries beyond SimStorage, by storage id. */
  storageConfig?: Record<string, SimStorageConfig>;
  /** Space of a storage in bytes, by storage id; default 500 GiB total, 412 GiB free. */
  space?: Record<string, { total: number; avail: number }>;
}
