import { describe, expect, it } from 'vitest';
import {
  escapeForLog,
  isNodeName,
  isStorageId,
  isVmid,
  parseBackupVolid,
  showValue,
} from '../../../src/pveApi/names.js';

describe('what PVE allows for names from its answers', () => {
  it('node names are one DNS label (pve-node)', () => {
    for (const ok of ['pve1', 'PVE-01', 'a', '9']) expect(isNodeName(ok), ok).toBe(true);
    for (const bad of ['../evil', '..', '.', '', 'a/b', '-a', 'a-', 'a.b', 'a b', 'a\n', 'n%2F'])
      expect(isNodeName(bad), JSON.stringify(bad)).toBe(false);
    expect(isNodeName(5)).toBe(false);
  });

  it('vmids are integers from 100 to 999999999 (pve-vmid)', () => {
    for (const ok of [100, 101, 999_999_999]) expect(isVmid(ok)).toBe(true);
    for (const bad of [99, 0, -1, 1_000_000_000, 100.5, Number.NaN, '100'])
      expect(isVmid(bad), String(bad)).toBe(false);
  });

  it('storage ids follow pve-storage-id (case-insensitive, at least 2 characters)', () => {
    for (const ok of ['local', 'ftp-staging', 'Backup_1.x', 'ab'])
      expect(isStorageId(ok)).toBe(true);
    for (const bad of ['a', '..', '1local', 'local-', 'lo/cal', 'lo:cal', ''])
      expect(isStorageId(bad), bad).toBe(false);
  });

  it('backup volume ids name one file of one storage', () => {
    expect(
      parseBackupVolid('ftp-staging:backup/vzdump-lxc-101-2024_05_01-02_00_03.tar.zst'),
    ).toEqual({
      storage: 'ftp-staging',
      file: 'vzdump-lxc-101-2024_05_01-02_00_03.tar.zst',
    });
    expect(parseBackupVolid('local:vzdump-openvz-101-2015_03_01-01_00_02.tar')).toEqual({
      storage: 'local',
      file: 'vzdump-openvz-101-2015_03_01-01_00_02.tar',
    });
    for (const bad of [
      'ftp-staging:backup/../../etc/passwd',
      'ftp-staging:backup/..',
      'ftp-staging:../x',
      '../x:backup/a.tar',
      'ftp-staging:backup/a\nb.tar',
      'no-colon',
      'st:backup/',
    ])
      expect(parseBackupVolid(bad), JSON.stringify(bad)).toBeUndefined();
  });

  it('escapes control characters and backslashes for one-line logs, bounded', () => {
    expect(escapeForLog('web\n01\u001b[31m')).toBe('web\\x0a01\\x1b[31m');
    expect(escapeForLog('a\\x0a')).toBe('a\\\\x0a');
    expect(escapeForLog('\u0085\u007f\r')).toBe('\\x85\\x7f\\x0d');
    expect(escapeForLog('x'.repeat(500))).toHaveLength(201);
    expect(showValue('../evil')).toBe("'../evil'");
    expect(showValue({ a: '\n' })).toBe('{"a":"\\\\n"}');
  });
});
