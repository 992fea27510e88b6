/**
 * Judges a finished task like pve-common's `status_is_error`: exit status `OK`
 * or `WARNINGS: n` (PVE >= 6.4) is success, anything else (`job errors`,
 * `command '…' failed: exit code 1`, `unexpected status`) is failure. The
 * `ERROR:` lines of the log say why.
 */

/** The verdict on a finished task. */
export interface TaskOutcome {
  ok: boolean;
  /** `n` of `WARNINGS: n`; for `OK`, the number of `WARN:` lines (older PVE did not count them). */
  warnings: number;
  /** Text after `ERROR: ` of each error line, plus the exit status itself on failure when no line carries it. */
  errors: string[];
}

const WARNINGS_RE = /^WARNINGS:\s*(\d+)\s*$/;

/** Success for `OK` and `WARNINGS: n`; failure otherwise, with the `ERROR:` lines. */
export function taskOutcome(exitstatus: string, logLines: string[]): TaskOutcome {
  const status = exitstatus.trim();
  const warnMatch = WARNINGS_RE.exec(status);
  const ok = status === 'OK' || warnMatch !== null;
  const errors: string[] = [];
  let warnLines = 0;
  for (const line of logLines) {
    if (line.startsWith('ERROR: ')) errors.push(line.slice('ERROR: '.length).trim());
    else if (line.startsWith('TASK ERROR: ')) errors.push(line.slice('TASK ERROR: '.length).trim());
    else if (line.startsWith('WARN: ')) warnLines++;
  }
  if (!ok && !errors.includes(status)) errors.push(status || 'task ended without an exit status');
  const warnings = warnMatch ? Number(warnMatch[1]) : warnLines;
  return { ok, warnings, errors };
}
