/**
 * Proxmox VE REST API client: the public surface. See types.ts for the
 * contract and client.ts for the endpoints.
 */
export type { PveAuth } from './auth.js';
export { createPveClient } from './client.js';
export { PveApiError, PveAuthError, PveTlsError } from './errors.js';
export { type TaskOutcome, taskOutcome } from './taskOutcome.js';
export type { Timeouts, TlsOptions } from './transport.js';
export { normalizeFingerprint } from './transport.js';
export type {
  GuestType,
  PveBackupVolume,
  PveClient,
  PveClientOptions,
  PveGuest,
  PveTaskStatus,
  PveVersion,
  RestoreParams,
  VzdumpParams,
} from './types.js';
export { isUpid, parseUpid, type Upid } from './upid.js';
