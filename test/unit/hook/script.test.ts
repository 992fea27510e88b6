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
    expect(Math.max(...hookInstallHelp.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});
