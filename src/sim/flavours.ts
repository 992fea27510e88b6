/**
 * The flavour table: every place where the simulated PVE releases differ, in
 * one explicit record per release, so behaviour switches read as data
 * (`flavour.hookViaShell`) instead of version arithmetic scattered around.
 * Each field cites the docs/pve-facts.md section it models.
 */
import type { SimFlavour } from './scenario.js';

export interface FlavourTraits {
  flavour: SimFlavour;
  /** GET /version `data` (#version); 3.x also returns datacenter.cfg keys. */
  version: Record<string, string>;
  /** Container endpoint present on this release (#versions: openvz ≤3.4, lxc ≥4.0). */
  containerType: 'openvz' | 'lxc';
  /** `vmid` in the container list is a JSON string (#errors: OpenVZ 3.x; LXC until PCT 5.0.10 = 8.2). */
  containerVmidAsString: boolean;
  /** API tokens exist (#auth: ≥6.2). */
  tokens: boolean;
  /** JSON request bodies accepted (#errors: PHS 3.0-6 = 6.2). */
  jsonBodies: boolean;
  /** `Authorization: PVEAuthCookie=<ticket>` accepted besides the cookie (current PHS). */
  cookieInAuthHeader: boolean;
  /** GET /nodes carries `ssl_fingerprint` (#nodes: ≥5.1-37). */
  nodeFingerprint: boolean;
  /**
   * GET /nodes carries `status` (PM 5.1-37, b67e6398 "add status to node stats");
   * before, a row has `uptime`/`cpu`/`mem` only when the node is online.
   */
  nodeStatus: boolean;
  /** Error bodies carry `message` (#errors: PHS 5.2.0 = 8.3/8.4). */
  errorMessageInBody: boolean;
  /** 401 reasons (#auth; 9.1.5 made them uniform). */
  reasons: { loginFailed: string; invalidTicket: string; invalidToken: string; noTicket: string };
  /** Hook phase `job-init` (≥7.1-11). */
  jobInit: boolean;
  /** Hook phase `post-restart` (≥4.2). */
  postRestart: boolean;
  /** Hook run through `/bin/bash -c` (3.x) rather than exec'd as argv (≥6.4-7). */
  hookViaShell: boolean;
  /** Hook env variable holding the archive path (#hook: TARFILE ≤6.2-6, TARGET ≥7.0). */
  targetEnv: 'TARFILE' | 'TARGET';
  /** `creating archive` (≤6.2-6) vs `creating vzdump archive` (≥6.2-7). */
  archiveVerb: string;
  /** Task can end `TASK WARNINGS: n`; failing backup-abort/log-end hooks are WARNs (≥8.2.2). */
  hookWarnings: boolean;
  /** UPID id = vmid for single-guest jobs (≥5.3-8). */
  upidIdSingleGuest: boolean;
  /** vmids of other nodes are skipped (≥6.0) instead of failing in the task. */
  skipForeignVmids: boolean;
  /** Task log `limit=0` means "all" (PC ≥7.3-1) instead of 50. */
  logLimitZeroAll: boolean;
  /** DELETE of a backup volume runs an `imgdel` task (≥6.0) and removes the `.log` (PS ≥5.0-42). */
  asyncVolumeDelete: boolean;
  /** Storage content `vmid` param lists disk images instead of backups (#storage: 3.x). */
  contentVmidMeansImages: boolean;
  /** Storage content carries `ctime`, `vmid`, `subtype` (PS 6.1-6 / 7.1-2). */
  contentDetails: boolean;
  /** Global lock wording (≤5.x: `aquire`). */
  lockVerb: 'aquire' | 'acquire';
  /** Key of vzdump-params.json `presentIn`. */
  schemaKey: string;
  /** Label in `rootOnlyIn` that covers this release. */
  rootOnlyRange: string;
}

const reasonsClassic = {
  loginFailed: 'authentication failure',
  invalidTicket: 'permission denied - invalid PVE ticket',
  invalidToken: 'invalid token value!',
  noTicket: 'No ticket',
};

/** PVE 8.4: the current API generation; 9.1 differs only where it says so. */
const PVE8: FlavourTraits = {
  flavour: '8.4',
  version: { version: '8.4.1', release: '8.4', repoid: '2a5fa54a8503f96d', console: 'xtermjs' },
  containerType: 'lxc',
  containerVmidAsString: false,
  tokens: true,
  cookieInAuthHeader: true,
  jsonBodies: true,
  nodeFingerprint: true,
  nodeStatus: true,
  errorMessageInBody: true,
  reasons: reasonsClassic,
  jobInit: true,
  postRestart: true,
  hookViaShell: false,
  targetEnv: 'TARGET',
  archiveVerb: 'creating vzdump archive',
  hookWarnings: true,
  upidIdSingleGuest: true,
  skipForeignVmids: true,
  logLimitZeroAll: true,
  asyncVolumeDelete: true,
  contentVmidMeansImages: false,
  contentDetails: true,
  lockVerb: 'acquire',
  schemaKey: '8.4',
  rootOnlyRange: '8.2.5+',
};

/** The flavours the simulator imitates. */
export const FLAVOURS: Record<SimFlavour, FlavourTraits> = {
  '3.4': {
    flavour: '3.4',
    version: { version: '3.4', release: '16', repoid: '3f8d6b5e', keyboard: 'en-us' },
    containerType: 'openvz',
    containerVmidAsString: true,
    tokens: false,
    cookieInAuthHeader: false,
    jsonBodies: false,
    nodeFingerprint: false,
    nodeStatus: false,
    errorMessageInBody: false,
    reasons: reasonsClassic,
    jobInit: false,
    postRestart: false,
    hookViaShell: true,
    targetEnv: 'TARFILE',
    archiveVerb: 'creating archive',
    hookWarnings: false,
    upidIdSingleGuest: false,
    skipForeignVmids: false,
    logLimitZeroAll: false,
    asyncVolumeDelete: false,
    contentVmidMeansImages: true,
    contentDetails: false,
    lockVerb: 'aquire',
    schemaKey: '3.4',
    rootOnlyRange: '3.x',
  },
  '8.4': PVE8,
  '9.1': {
    ...PVE8,
    flavour: '9.1',
    version: { version: '9.1.7', release: '9.1', repoid: '14a22df3b2e5c1d4', console: 'xtermjs' },
    // PM 9.1.5 (26c10a2e) answers every ticket/token verification failure alike.
    reasons: {
      loginFailed: 'Authentication failed!',
      invalidTicket: 'Authentication failed!',
      invalidToken: 'Authentication failed!',
      noTicket: 'No ticket',
    },
    schemaKey: '9.1',
  },
};
