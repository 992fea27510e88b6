/**
 * The words every layer shares: guest types, guest-state filters, vzdump
 * modes and compressors. One owner, so the config schema (zod enums), the PVE
 * client, the manifest and the orchestrator cannot drift apart.
 */

/** Guest types: OpenVZ containers (PVE 3.x), LXC containers (PVE >= 4), QEMU VMs. */
export const GUEST_TYPES = ['lxc', 'openvz', 'qemu'] as const;
export type GuestType = (typeof GUEST_TYPES)[number];

/** Which guests a run selects by their state (`--guests`, `backup.guests`). */
export const GUEST_STATE_FILTERS = ['running', 'stopped', 'all'] as const;
export type GuestStateFilter = (typeof GUEST_STATE_FILTERS)[number];

/** vzdump's `mode`. */
export const BACKUP_MODES = ['snapshot', 'suspend', 'stop'] as const;
export type BackupMode = (typeof BACKUP_MODES)[number];

/** vzdump's `compress` (`0`: none). */
export const COMPRESSORS = ['0', 'gzip', 'lzo', 'zstd'] as const;
export type Compressor = (typeof COMPRESSORS)[number];

/** Hook phases that may upload (`backup.uploadAt`). */
export const UPLOAD_PHASES = ['log-end', 'backup-end'] as const;
export type UploadPhase = (typeof UPLOAD_PHASES)[number];

/** Guest ids PVE accepts (`pve-vmid`): the config's `exclude` and the CLI's `--vmid` check against these. */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;
