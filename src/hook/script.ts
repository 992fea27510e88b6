/**
 * The node-side vzdump hook script, shipped as a plain file
 * (hook/pve-ftp-backup-hook.sh at the package root) so that it can be
 * shellchecked, run by tests and installed as it is.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Two levels up from both src/hook/ (vitest) and dist/hook/ (built CLI) is the
// package root, where hook/ lives.
const scriptUrl = new URL('../../hook/pve-ftp-backup-hook.sh', import.meta.url);

/** Absolute local path of the hook script file (tests and the simulator run it from here). */
export function hookScriptPath(): string {
  return fileURLToPath(scriptUrl);
}

/** The hook script's text, as `pve-ftp-backup hook` prints it. */
export function hookScript(): string {
  return readFileSync(scriptUrl, 'utf8');
}
