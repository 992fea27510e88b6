/**
 * Runs the node's vzdump hook script the way vzdump does (docs/pve-facts.md#hook):
 * `<script> <phase> [<mode> <vmid>]`, exec'd as argv (≥ 6.4-7) or through
 * `/bin/bash -c` (3.x), with the environment replaced by vzdump's variables,
 * every output line handed back for the task log, and a process group that a
 * task stop can SIGTERM (SIGKILL 5 s later).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface HookCall {
  script: string;
  phase: string;
  mode?: string;
  vmid?: number;
  /** vzdump's variables (STOREID, DUMPDIR, VMTYPE, …) plus test-only extras. */
  env: Record<string, string>;
  viaShell: boolean;
  /** Whether missing/non-executable scripts get PM ≥ 7.1's explicit messages. */
  explicitErrors: boolean;
}

/** How long a SIGTERMed hook gets before SIGKILL (PC kill_process_group). */
const KILL_GRACE_MS = 5000;

/** The command text vzdump shows in error messages. */
export function hookCommandText(call: HookCall): string {
  const parts = [call.script, call.phase];
  if (call.mode !== undefined) parts.push(call.mode, String(call.vmid));
  return parts.join(' ');
}

/**
 * Runs one hook phase. Resolves with the error text vzdump would raise
 * (`command '…' failed: exit code N`) or undefined on success.
 */
export async function runHook(
  call: HookCall,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (call.explicitErrors) {
    try {
      await access(call.script, constants.F_OK);
    } catch {
      return `Error: The hook script '${call.script}' does not exist.`;
    }
    try {
      await access(call.script, constants.X_OK);
    } catch {
      return `Error: The hook script '${call.script}' is not executable.`;
    }
  }
  const args = call.mode !== undefined ? [call.phase, call.mode, String(call.vmid)] : [call.phase];
  const env = { ...call.env, LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };
  const child = call.viaShell
    ? spawn('/bin/bash', ['-c', hookCommandText(call)], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(call.script, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, KILL_GRACE_MS);
    killTimer.unref();
  };
  signal.addEventListener('abort', kill, { once: true });
  if (signal.aborted) kill();
  const readers = [child.stdout, child.stderr].map(
    (stream) =>
      new Promise<void>((resolve) => {
        const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
        rl.on('line', onLine);
        rl.on('close', resolve);
      }),
  );
  const result = await new Promise<{
    code: number | null;
    sig: NodeJS.Signals | null;
    err?: Error;
  }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, sig: null, err }));
    child.once('close', (code, sig) => resolve({ code, sig }));
  });
  await Promise.all(readers);
  signal.removeEventListener('abort', kill);
  if (killTimer) clearTimeout(killTimer);
  const text = hookCommandText(call);
  if (result.err) return `command '${text}' failed: ${result.err.message}`;
  if (result.sig) return `command '${text}' failed: received signal ${result.sig}`;
  if (result.code !== 0) return `command '${text}' failed: exit code ${result.code}`;
  return undefined;
}
