/**
 * Where things live on the NAS (pure). A node's tree is `{dir}/{node}`:
 * `transfer/` (the hook uploads there), the generations (their names:
 * rotation/names.ts), `.lock` (who runs now). These helpers are the one place
 * the node tree's paths and the safety checks on path parts are defined.
 */
import { UnsafeNameError } from './errors.js';

/** Staging directory of the current run. */
export const TRANSFER_NAME = 'transfer';
/** The node lock (a directory: MKD is the exclusive create every server offers). */
export const LOCK_NAME = '.lock';
/** The holder file inside the lock directory. */
export const LOCK_HOLDER_NAME = 'holder.json';
/** Suffix of this tool's temporary files (written, then renamed into place). */
export const TEMP_SUFFIX = '.pfb-tmp';

// C0 controls and DEL: CR/LF would end an FTP command early (command injection), NUL truncates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Throw unless `name` is a single safe path segment: not empty, not `.` or
 * `..`, no `/` or `\`, no control characters, at most 255 bytes.
 */
export function assertSafeName(name: string, what: string): void {
  if (name.length === 0) throw new UnsafeNameError(what, name, 'it is empty');
  if (name === '.' || name === '..')
    throw new UnsafeNameError(what, name, 'it names a directory link');
  if (name.includes('/') || name.includes('\\')) {
    throw new UnsafeNameError(what, name, 'it contains a path separator');
  }
  if (CONTROL.test(name)) throw new UnsafeNameError(what, name, 'it contains a control character');
  if (Buffer.byteLength(name, 'utf8') > 255)
    throw new UnsafeNameError(what, name, 'it is too long');
}

/**
 * Throw unless `path` is an absolute remote path without `.`/`..` segments or
 * control characters. Returns it without trailing slashes (`/` stays `/`).
 */
export function normalizeRemoteDir(path: string, what = 'remote directory'): string {
  if (!path.startsWith('/')) throw new UnsafeNameError(what, path, 'it is not an absolute path');
  if (CONTROL.test(path)) throw new UnsafeNameError(what, path, 'it contains a control character');
  const segments = path.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (s === '.' || s === '..') throw new UnsafeNameError(what, path, 'it has a . or .. segment');
  }
  return `/${segments.join('/')}`;
}

/** `dir/name` for an absolute `dir` and a safe single `name`. */
export function joinRemote(dir: string, name: string, what = 'file name'): string {
  assertSafeName(name, what);
  const base = normalizeRemoteDir(dir);
  return base === '/' ? `/${name}` : `${base}/${name}`;
}

/** A node's paths on the NAS. */
export interface NodeLayout {
  nodeDir: string;
  transfer: string;
  /** The lock directory `{nodeDir}/.lock`. */
  lock: string;
}

/**
 * Paths of `node`'s tree under the configured `dir`. Throws UnsafeNameError
 * for a node name that could escape `dir` (it comes from the API) or a `dir`
 * that is not absolute.
 */
export function nodeLayout(dir: string, node: string): NodeLayout {
  const nodeDir = joinRemote(normalizeRemoteDir(dir, 'ftp.dir'), node, 'node name');
  return {
    nodeDir,
    transfer: `${nodeDir}/${TRANSFER_NAME}`,
    lock: `${nodeDir}/${LOCK_NAME}`,
  };
}
