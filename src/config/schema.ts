/**
 * The zod schema of the YAML configuration file, exactly as the admin writes
 * it (docs/contract.md#configuration). It is the single source of truth: the
 * validator and the JSON Schema (`pve-ftp-backup config schema`) both derive
 * from it. Cross-field rules live in rules.ts; secrets and CA files are
 * resolved afterwards in load.ts.
 */
import { z } from 'zod';
import {
  BACKUP_MODES,
  COMPRESSORS,
  GUEST_STATE_FILTERS,
  GUEST_TYPES,
  UPLOAD_PHASES,
  VMID_MAX,
  VMID_MIN,
} from '../vocabulary.js';
import { DURATION_FORMAT, parseDurationMs, parseDurationSeconds } from './duration.js';

/** A whole number in a range, with one message naming both bounds. */
function intIn(min: number, max: number) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** CR, LF and NUL would let a value break out of a line (FTP command, hook.conf). */
const noControl = (what: string) =>
  z
    .string()
    .min(1, { error: `must not be empty` })
    .refine((s) => !/[\r\n\0]/.test(s), { error: `${what} must not contain CR, LF or NUL` });

/** SHA-256 fingerprint as the PVE GUI shows it: 32 hex pairs separated by colons. */
export const FINGERPRINT_RE = /^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$/;
/** PVE node names are host names: they end up in NAS paths, so nothing else is accepted. */
export const NODE_NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$/;
/** PVE storage ids (pve-storage `pve-storage-id`). */
export const STORAGE_ID_RE = /^[A-Za-z][A-Za-z0-9\-_.]*[A-Za-z0-9]$/;
const TOKEN_ID_RE = /^[^\s@!:]+@[^\s@!:]+![A-Za-z][A-Za-z0-9._-]*$/;
const USER_ID_RE = /^[^\s@:]+@[^\s@!:]+$/;

export { VMID_MAX, VMID_MIN };

const secretString = z
  .string()
  .min(1, { error: 'must not be empty' })
  // biome-ignore lint/suspicious/noTemplateCurlyInString: `${VAR}` is the config syntax being described
  .describe('A secret; write it as ${VAR} to read it from the environment.');
const filePath = z.string().min(1, { error: 'must not be empty' });

const clusterAuth = z
  .strictObject({
    token: z
      .string()
      .regex(TOKEN_ID_RE, { error: 'expected an API token id like backup@pve!nightly' })
      .optional()
      .describe('API token id user@realm!name (PVE >= 6.2).'),
    secret: secretString.optional(),
    secretFile: filePath.optional().describe('File holding the token secret.'),
    user: z
      .string()
      .regex(USER_ID_RE, { error: 'expected user@realm, e.g. root@pam' })
      .optional()
      .describe('User for ticket login (the only way on PVE < 6.2).'),
    password: secretString.optional(),
    passwordFile: filePath.optional().describe('File holding the password.'),
  })
  .describe('Either token + secret(File), or user + password(File).');

const cluster = z.strictObject({
  name: z
    .string()
    .min(1, { error: 'must not be empty' })
    .regex(/^[^\s\p{Cc}]+$/u, { error: 'expected a label without spaces or control characters' })
    .describe('Label used in logs and reports; unique.'),
  url: z.string().describe('https://host:8006 of a node of the cluster.'),
  auth: clusterAuth,
  tls: z
    .strictObject({
      fingerprint: z
        .string()
        .regex(FINGERPRINT_RE, {
          error: 'expected a SHA-256 fingerprint: 32 hex pairs separated by colons (AB:CD:…)',
        })
        .optional(),
      ca: filePath.optional().describe('PEM file of the CA that signed the node certificate.'),
      insecure: z.boolean().default(false).describe('Do not verify the certificate at all.'),
    })
    .default({ insecure: false }),
  nodes: z
    .array(z.string().regex(NODE_NAME_RE, { error: 'expected a node (host) name' }))
    .min(1, { error: 'must name at least one node (or leave the key out)' })
    .optional()
    .describe('Only these nodes; default every online node.'),
});

const ftp = z.strictObject({
  // An IPv6 address goes in bare (`fd00::5`): brackets belong to URLs, and the hook adds them.
  host: noControl('host').regex(/^[A-Za-z0-9.:-]+$/, {
    error: 'expected a host name or IP address, IPv6 without brackets (no scheme, path or port)',
  }),
  port: intIn(1, 65535).default(21),
  user: noControl('user'),
  password: noControl('password').optional(),
  passwordFile: filePath.optional(),
  secure: z.boolean().default(false).describe('Explicit FTPS (AUTH TLS).'),
  dir: noControl('dir').describe('Base directory on the NAS; each node gets {dir}/{node}.'),
  ca: filePath.optional().describe('PEM file of the CA that signed the FTPS certificate.'),
  insecure: z.boolean().default(false).describe('FTPS without certificate verification.'),
  limitRate: z
    .string()
    .regex(/^[0-9]+[kKmMgG]?$/, {
      error:
        'expected bytes per second as curl --limit-rate takes them: 0 (no limit), 800k, 50M, 1G',
    })
    .optional()
    .describe("Upload rate cap of the node hook (curl's --limit-rate); 0 is none."),
});

const guestType = z.enum(GUEST_TYPES);

const backup = z.strictObject({
  guests: z.enum(GUEST_STATE_FILTERS).default('running'),
  types: z
    .array(guestType)
    .min(1, { error: 'must name at least one guest type' })
    .default(['lxc', 'openvz']),
  exclude: z.array(intIn(VMID_MIN, VMID_MAX)).default([]),
  storage: noControl('storage')
    .regex(STORAGE_ID_RE, { error: 'expected a PVE storage id (letters, digits, - _ .)' })
    .describe('Node-local PVE storage vzdump writes to (staging).'),
  mode: z.enum(BACKUP_MODES).default('snapshot'),
  compress: z
    .union([z.enum(COMPRESSORS), z.literal(0)], {
      error: 'expected one of 0, gzip, lzo, zstd',
    })
    .default('zstd'),
  parallelNodes: intIn(1, 64).default(2),
  uploadAt: z
    .enum(UPLOAD_PHASES)
    .default('log-end')
    .describe('Hook phase that uploads the archive.'),
});

/** Notification URLs may be http:// (a self-hosted service on the LAN) or https://. */
const notifyUrl = secretString.refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'expected an http:// or https:// URL' },
);
/** When a notification goes out: after every run, or only when the exit code is not 0. */
const notifyOn = z
  .enum(['always', 'failure'])
  .default('failure')
  .describe('always, or failure (exit code not 0).');

const notify = z
  .strictObject({
    healthchecks: notifyUrl
      .optional()
      .describe('Ping URL: /start at the start, then the URL (exit 0) or /<exit code> at the end.'),
    ntfy: z
      .strictObject({ url: notifyUrl, token: secretString.optional(), on: notifyOn })
      .optional()
      .describe('ntfy topic URL: title, priority and tags by outcome.'),
    webhook: z
      .strictObject({ url: notifyUrl, bearer: secretString.optional(), on: notifyOn })
      .optional()
      .describe('POST of the JSON run report.'),
    command: z
      .strictObject({
        run: z
          .array(noControl('argument'))
          .min(1, { error: 'must name the program to run' })
          .describe('argv: program and arguments (no shell).'),
        on: notifyOn,
      })
      .optional()
      .describe('A program given the JSON run report on stdin.'),
  })
  .describe('Every key optional; a notification never changes the exit code.');

const duration = z
  .string({ error: `expected ${DURATION_FORMAT}` })
  .refine((s) => parseDurationSeconds(s) !== undefined, { error: `expected ${DURATION_FORMAT}` });
/** Shortest lease: the holder renews and times its NAS commands at a tenth of it, 1 s at least. */
export const LOCK_LEASE_MIN_MS = 10_000;
export const LOCK_LEASE_DEFAULT = '10m';

/** `lockLease`: how long a node lock may go unrenewed (NAS clock) before another run takes it over. */
const lockLease = z
  .string({ error: 'expected a duration like 90s, 10m, 2h' })
  .refine((s) => parseDurationMs(s) !== undefined, {
    error: 'expected a duration like 90s, 10m, 2h',
  })
  .refine((s) => (parseDurationMs(s) ?? 0) >= LOCK_LEASE_MIN_MS, {
    error: 'must be at least 10s',
  })
  .refine((s) => (parseDurationMs(s) ?? 0) <= 7 * 86_400_000, { error: 'must be at most 7d' })
  .default(LOCK_LEASE_DEFAULT)
  .describe('A node lock not renewed for this long (by the NAS clock) is stale and taken over.');

/** The configuration file. */
export const configFile = z.strictObject({
  clusters: z.array(cluster).min(1, { error: 'must list at least one cluster' }),
  ftp,
  backup,
  retention: z
    .strictObject({
      keep: intIn(1, 1000).default(10).describe('Daily generations: daily.0 … daily.{keep-1}.'),
      weekly: intIn(0, 520)
        .default(0)
        .describe('Weekly generations promoted from the oldest daily, >= 7 days apart; 0: none.'),
      monthly: intIn(0, 1200)
        .default(0)
        .describe(
          'Monthly generations promoted from the oldest weekly, >= 28 days apart; 0: none.',
        ),
    })
    .default({ keep: 10, weekly: 0, monthly: 0 }),
  notify: notify.default({}),
  metrics: z
    .strictObject({
      textfile: filePath
        .optional()
        .describe('node_exporter textfile collector file, written atomically after every run.'),
    })
    .default({}),
  status: z
    .strictObject({
      maxAge: duration.default('26h').describe('A newest copy older than this is stale.'),
    })
    .default({ maxAge: '26h' }),
  lockLease,
});

/** The file as parsed (defaults applied, secrets not yet resolved). */
export type ConfigFile = z.output<typeof configFile>;
