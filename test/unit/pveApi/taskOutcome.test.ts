import { describe, expect, it } from 'vitest';
import { taskOutcome } from '../../../src/pveApi/taskOutcome.js';
import { fixtureText } from './fixtures.js';

function lines(name: string): string[] {
  return fixtureText(name).split('\n').filter(Boolean);
}

/** The exit status PVE derives from a log's final `TASK …` line (what …/status reports). */
function exitOf(log: string[]): string {
  const last = log.at(-1) ?? '';
  if (last === 'TASK OK') return 'OK';
  const m = /^TASK (?:ERROR: (.*)|(WARNINGS: \d+))$/.exec(last);
  if (!m) throw new Error(`no TASK line at the end: ${last}`);
  return (m[1] ?? m[2]) as string;
}

describe('taskOutcome on real task logs', () => {
  it('TASK OK with a hook upload (PVE 6.2) is a success without errors', () => {
    const log = lines('lxc-snapshot-zstd-hookupload_pve6.2_rclone-readme.log');
    expect(taskOutcome(exitOf(log), log)).toEqual({ ok: true, warnings: 0, errors: [] });
  });

  it('TASK OK of a QEMU template backup is a success', () => {
    const log = lines('qemu-stop-template-nocompress_pve7.2plus_gui-task.log');
    expect(taskOutcome(exitOf(log), log).ok).toBe(true);
  });

  it('job errors: failure naming the guest error line', () => {
    const log = lines('lxc-snapshot-zstd-tar-error_pve7.2plus_task.log');
    const out = taskOutcome(exitOf(log), log);
    expect(out.ok).toBe(false);
    expect(out.errors[0]).toMatch(/^Backup of VM 200 failed - command 'set -o pipefail/);
    expect(out.errors).toContain('job errors');
  });

  it('suspend fallback that failed: failure for VM 303', () => {
    const log = lines('lxc-snapshot-fallback-suspend-error_pve7.2plus_task.log');
    const out = taskOutcome(exitOf(log), log);
    expect(out.ok).toBe(false);
    expect(out.errors.some((e) => e.startsWith('Backup of VM 303 failed'))).toBe(true);
  });

  it('a hook failure in job-abort (exit status from the syslog) is a failure', () => {
    const status =
      "command '/root/proxmox-vzbackup-rclone/vzbackup-rclone.sh job-abort' failed: exit code 1";
    expect(taskOutcome(status, [])).toEqual({ ok: false, warnings: 0, errors: [status] });
  });

  it('qmp timeout on PVE 9.1 keeps both ERROR lines', () => {
    const log = lines('qemu-pbs-qmp-timeout-error_pve9.1_excerpt.log');
    const out = taskOutcome('job errors', log);
    expect(out.ok).toBe(false);
    expect(out.errors).toEqual([
      "VM 111 qmp command 'backup' failed - got timeout",
      "Backup of VM 111 failed - VM 111 qmp command 'backup' failed - got timeout",
      'job errors',
    ]);
  });
});

describe('taskOutcome rules', () => {
  it('WARNINGS: n is a success and keeps n', () => {
    const log = [
      'INFO: Starting Backup of VM 101 (lxc)',
      "WARN: command 'hook log-end' failed: exit code 1",
      'TASK WARNINGS: 1',
    ];
    expect(taskOutcome('WARNINGS: 1', log)).toEqual({ ok: true, warnings: 1, errors: [] });
    expect(taskOutcome('WARNINGS: 12', []).warnings).toBe(12);
  });

  it('OK counts WARN: lines (older PVE did not turn them into task warnings)', () => {
    expect(taskOutcome('OK', ['WARN: a', 'INFO: b', 'WARN: c'])).toMatchObject({
      ok: true,
      warnings: 2,
    });
  });

  it('anything else is a failure, even text that merely contains OK', () => {
    for (const s of ['unexpected status', 'OK but not really', 'WARNINGS:', '', 'ok']) {
      expect(taskOutcome(s, []).ok, s).toBe(false);
    }
    expect(taskOutcome('', []).errors).toEqual(['task ended without an exit status']);
  });
});
