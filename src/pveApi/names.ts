/**
 * What PVE itself allows for the names and ids its answers carry. A value from
 * an answer that PVE could never have produced (a node `../evil`, a vmid 7, a
 * volume id climbing out of its directory) is hostile or corrupt: it is refused
 * before it reaches a URL, a file name, an FTP path or a log line. The
 * patterns are pve-common's own (src/PVE/JSONSchema.pm); docs/api-input-validation.md
 * cites them.
 */

/** `pve-node` (pve_verify_node_name): one DNS label. */
const NODE_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** `pve-storage-id` (parse_id): at least 2 characters, case-insensitive. */
const STORAGE_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;

/** `pve-vmid`: 100 … 999 999 999. */
const VMID_MIN = 100;
const VMID_MAX = 999_999_999;

/**
 * A backup volume of a directory storage: `<storage>:backup/<file>` (PVE 3.x
 * and some plugins list `<storage>:<file>`). The file is one name: no `/`, no
 * control characters, not `.`/`..`.
 */
const BACKUP_VOLID_RE = /^([^:]+):(?:backup\/)?([^/]+)$/;

/** Any C0/C1 control character or DEL: they break log lines and terminals. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;

export function isNodeName(text: unknown): text is string {
  return typeof text === 'string' && NODE_RE.test(text);
}

export function isVmid(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= VMID_MIN && value <= VMID_MAX
  );
}

export function isStorageId(text: unknown): text is string {
  return typeof text === 'string' && STORAGE_RE.test(text);
}

export function hasControlChars(text: string): boolean {
  CONTROL_RE.lastIndex = 0;
  return CONTROL_RE.test(text);
}

/** A backup volume id split into storage and file name, or undefined when PVE could not have listed it. */
export function parseBackupVolid(volid: string): { storage: string; file: string } | undefined {
  const m = BACKUP_VOLID_RE.exec(volid);
  if (!m?.[1] || !m[2]) return undefined;
  const [, storage, file] = m;
  if (!isStorageId(storage) || file === '.' || file === '..' || hasControlChars(file)) {
    return undefined;
  }
  return { storage, file };
}

/**
 * The text made safe for one log line or report line: control characters
 * become `\xNN` (`\n` → `\x0a`), a backslash becomes `\\` so the escaping is
 * unambiguous, and the length is bounded (a hostile answer can be huge).
 */
export function escapeForLog(text: string, max = 200): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(CONTROL_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** Any value from an answer, shown for a report: strings escaped, other values as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${escapeForLog(value)}'`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return escapeForLog(json ?? String(value));
}
