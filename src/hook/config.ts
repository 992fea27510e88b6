/**
 * Renders a node's hook.conf, the file the hook script reads on the node.
 *
 * The format is the script's own: `key=value` lines, where the value is every
 * byte after the first `=` up to the end of the line, taken literally. The
 * script parses it (it never sources it), so `$`, quotes, backticks, `#`, `=`
 * and spaces in a password are plain data and need no escaping. What this
 * format cannot carry is a line break or a NUL, so those are refused, as are
 * values the node would misread (a port out of range, a relative dir).
 */
import type { FtpConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { UploadPhase } from '../vocabulary.js';

/** What a node's hook needs to know; built by the CLI from the tool's config. */
export interface HookConfigInput {
  /** The PVE node's name: vzdump's HOSTNAME is the guest's name, so the hook cannot learn it. */
  node: string;
  /** The tool's FTP settings (`dir` is the absolute FTP path; the node's tree is `{dir}/{node}`). */
  ftp: Pick<FtpConfig, 'host' | 'port' | 'user' | 'password' | 'secure' | 'dir'> & {
    /** curl `--limit-rate` for the uploads (`0` or absent: no cap). */
    limitRate?: string;
    /** CA certificate file path ON THE NODE (explicit FTPS with a private CA). */
    caFile?: string;
    /** Accept any server certificate (explicit opt-out). */
    insecure?: boolean;
  };
  /** The node-local PVE storage vzdump writes to; the hook acts only on backups to it. */
  storage: string;
  uploadAt: UploadPhase;
}

/**
 * Thrown when a value cannot be written into hook.conf safely. A ConfigError
 * (exit 2); the message names the key, and never shows the password.
 */
export class HookConfigError extends ConfigError {}

// PVE's own patterns (pve-common: node names; pve-storage: storage ids).
const nodeName = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const storageId = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;

function refuseBreaks(key: string, value: string): void {
  // CR/LF would end the line early (the rest would become a key of its own);
  // NUL cannot pass through a shell variable at all.
  if (/[\r\n\0]/.test(value)) {
    throw new HookConfigError(
      `hook.conf: ${key} contains a line break or NUL; it cannot be encoded`,
    );
  }
}

function requireNonEmpty(key: string, value: string): void {
  if (value === '') throw new HookConfigError(`hook.conf: ${key} is empty`);
}

function checkInput(input: HookConfigInput): void {
  const { ftp } = input;
  for (const [key, value] of [
    ['node', input.node],
    ['host', ftp.host],
    ['user', ftp.user],
    ['password', ftp.password],
    ['dir', ftp.dir],
    ['storage', input.storage],
    ['cafile', ftp.caFile ?? ''],
  ] as const) {
    refuseBreaks(key, value);
  }
  for (const [key, value] of [
    ['host', ftp.host],
    ['user', ftp.user],
    ['password', ftp.password],
  ] as const) {
    requireNonEmpty(key, value);
  }
  for (const [key, value] of [
    ['user', ftp.user],
    ['password', ftp.password],
  ] as const) {
    // curl refuses netrc credentials with control characters ("control code
    // detected in .netrc credentials"), so the hook could never log in.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
    if (/[\x00-\x1f\x7f]/.test(value)) {
      throw new HookConfigError(
        `hook.conf: ${key} contains a control character (tab?); curl cannot send it`,
      );
    }
  }
  if (!nodeName.test(input.node)) {
    throw new HookConfigError(`hook.conf: node "${input.node}" is not a valid PVE node name`);
  }
  if (!storageId.test(input.storage)) {
    throw new HookConfigError(
      `hook.conf: storage "${input.storage}" is not a valid PVE storage id`,
    );
  }
  // The host goes into a URL and a netrc line: no whitespace, no URL syntax.
  if (/[\s/?#@[\]\\"]/.test(ftp.host)) {
    throw new HookConfigError(`hook.conf: host "${ftp.host}" is not a plain host name or address`);
  }
  if (!Number.isInteger(ftp.port) || ftp.port < 1 || ftp.port > 65535) {
    throw new HookConfigError(`hook.conf: port ${ftp.port} is not 1-65535`);
  }
  if (!ftp.dir.startsWith('/')) {
    throw new HookConfigError(`hook.conf: dir "${ftp.dir}" must be an absolute path`);
  }
  if (ftp.dir.split('/').some((segment) => segment === '..' || segment === '.')) {
    throw new HookConfigError(`hook.conf: dir "${ftp.dir}" must not contain . or .. segments`);
  }
  if (ftp.caFile !== undefined && !ftp.caFile.startsWith('/')) {
    throw new HookConfigError(`hook.conf: cafile "${ftp.caFile}" must be an absolute path`);
  }
  if (ftp.limitRate !== undefined && !/^[0-9]+[kKmMgG]?$/.test(ftp.limitRate)) {
    throw new HookConfigError(
      `hook.conf: limit_rate "${ftp.limitRate}" is not a curl rate (0, 800k, 50M, 1G)`,
    );
  }
  if (input.uploadAt !== 'log-end' && input.uploadAt !== 'backup-end') {
    throw new HookConfigError(`hook.conf: upload_at must be log-end or backup-end`);
  }
}

/**
 * hook.conf for one node, ready to be written to /etc/pve-ftp-backup/hook.conf
 * (mode 0600). Throws {@link HookConfigError} on a value it cannot encode.
 */
export function renderHookConfig(input: HookConfigInput): string {
  checkInput(input);
  const { ftp } = input;
  const lines = [
    '# pve-ftp-backup hook configuration for this node: install as',
    '# /etc/pve-ftp-backup/hook.conf, owner root, mode 0600 (it holds the FTP password).',
    '# key=value; the value is taken literally up to the end of the line (no quoting).',
    `node=${input.node}`,
    `storage=${input.storage}`,
    `upload_at=${input.uploadAt}`,
    `host=${ftp.host}`,
    `port=${ftp.port}`,
    `user=${ftp.user}`,
    `password=${ftp.password}`,
    `secure=${ftp.secure ? 'yes' : 'no'}`,
    `dir=${ftp.dir}`,
  ];
  if (ftp.caFile !== undefined) lines.push(`cafile=${ftp.caFile}`);
  if (ftp.insecure) lines.push('insecure=yes');
  lines.push(
    '# Upload retries and timeouts (seconds); a stall is less than 1 byte/s for stall_timeout.',
    'retries=3',
    'retry_delay=10',
    'connect_timeout=30',
    'stall_timeout=120',
    "# Upload rate cap, curl's --limit-rate syntax (800k, 50M); 0 is none.",
    `limit_rate=${ftp.limitRate ?? '0'}`,
  );
  return `${lines.join('\n')}\n`;
}
