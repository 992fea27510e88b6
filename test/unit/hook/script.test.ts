import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hookInstallHelp, hookScript, hookScriptPath } from '../../../src/hook/index.js';

describe('hookScript', () => {
  it('is the shipped POSIX sh script', () => {
    const text = hookScript();
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toBe(readFileSync(hookScriptPath(), 'utf8'));
    expect(text.length).toBeGreaterThan(1000);
  });

  it('is executable in the package, so tests and the simulator can run it as vzdump does', () => {
    expect(statSync(hookScriptPath()).mode & 0o111).toBe(0o111);
  });

  it('never sources its config and never turns curl verbose', () => {
    const code = hookScript()
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'));
    expect(code.filter((line) => /^\s*(\.|source)\s/.test(line))).toEqual([]);
    // `command -v` is the shell's lookup, not curl's verbose flag.
    const verbose = /(^|\s)(-v|--verbose|--trace\S*)(\s|$)/;
    expect(code.filter((line) => verbose.test(line.replace('command -v', '')))).toEqual([]);
  });
});

describe('hookInstallHelp', () => {
  it('tells where the script, the config and the vzdump.conf line go', () => {
    expect(hookInstallHelp).toContain('/usr/local/lib/pve-ftp-backup/hook');
    expect(hookInstallHelp).toContain('/etc/pve-ftp-backup/hook.conf');
    expect(hookInstallHelp).toContain('script: /usr/local/lib/pve-ftp-backup/hook');
    expect(hookInstallHelp).toContain('pve-ftp-backup hook --config --node');
    // The staging storage and its retention: vzdump must never prune what the tool still needs.
    expect(hookInstallHelp).toContain('--prune-backups keep-all=1');
    expect(hookInstallHelp).toContain('--maxfiles 0');
    expect(Math.max(...hookInstallHelp.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});

describe('the script names the .log vzdump writes beside an archive (when LOGFILE is unset)', () => {
  const base = '/var/lib/vz/dump/vzdump-lxc-101-2026_11_30-02_00_05';
  // dash is /bin/sh on PVE nodes; PVE 3.x starts hooks through /bin/bash -c.
  const shells = ['dash', 'bash'].filter((sh) => spawnSync(sh, ['-c', ':']).status === 0);
  it.each(
    shells.flatMap((sh) =>
      [
        '.tar',
        '.tar.gz',
        '.tar.lzo',
        '.tar.zst',
        '.tar.bz2',
        '.tgz',
        '.vma',
        '.vma.gz',
        '.vma.lzo',
        '.vma.zst',
      ].map((ext) => [sh, ext] as const),
    ),
  )('%s: %s', (sh, ext) => {
    const out = spawnSync(sh, ['-c', '. "$1" && log_for "$2"', sh, hookScriptPath(), base + ext], {
      env: { PVE_FTP_BACKUP_HOOK_LIB: '1' },
      encoding: 'utf8',
    });
    expect(out.stdout).toBe(`${base}.log`);
  });
});
