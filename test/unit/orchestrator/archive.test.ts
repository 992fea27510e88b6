import { describe, expect, it } from 'vitest';
import {
  archiveNameFromLog,
  findNewArchive,
  isArchiveOf,
  logNameFor,
  volumeFileName,
} from '../../../src/orchestrator/archive.js';

describe('archive helpers', () => {
  it('reads the archive name from both log spellings and ignores PBS and .dat names', () => {
    expect(
      archiveNameFromLog([
        'INFO: starting new backup job',
        "INFO: creating vzdump archive '/mnt/pve/NAS/dump/vzdump-lxc-303-2023_04_07-18_43_44.tar.zst'",
      ]),
    ).toBe('vzdump-lxc-303-2023_04_07-18_43_44.tar.zst');
    expect(
      archiveNameFromLog([
        "INFO: creating archive '/var/lib/vz/dump/vzdump-openvz-101-2015_03_01-01_00_02.tar.lzo'",
      ]),
    ).toBe('vzdump-openvz-101-2015_03_01-01_00_02.tar.lzo');
    expect(
      archiveNameFromLog([
        "INFO: creating Proxmox Backup Server archive 'ct/102/2025-08-20T00:01:32Z'",
      ]),
    ).toBeUndefined();
    expect(
      archiveNameFromLog([
        "INFO: creating vzdump archive '/d/vzdump-lxc-1-2020_01_01-00_00_00.dat'",
      ]),
    ).toBeUndefined();
  });

  it('derives the companion .log name and refuses foreign names', () => {
    expect(logNameFor('vzdump-lxc-101-2024_05_01-02_00_03.tar.zst')).toBe(
      'vzdump-lxc-101-2024_05_01-02_00_03.log',
    );
    expect(logNameFor('vzdump-qemu-100-2026_04_22-08_36_31.vma')).toBe(
      'vzdump-qemu-100-2026_04_22-08_36_31.log',
    );
    expect(logNameFor('../../etc/passwd')).toBeUndefined();
    expect(volumeFileName('ftp-staging:backup/vzdump-lxc-101-2024_05_01-02_00_03.tar.zst')).toBe(
      'vzdump-lxc-101-2024_05_01-02_00_03.tar.zst',
    );
    expect(isArchiveOf('vzdump-lxc-101-2024_05_01-02_00_03.tar.zst', 101, 'lxc')).toBe(true);
    expect(isArchiveOf('vzdump-lxc-1010-2024_05_01-02_00_03.tar.zst', 101, 'lxc')).toBe(false);
    expect(isArchiveOf('vzdump-lxc-101-2024_05_01-02_00_03.log', 101, 'lxc')).toBe(false);
  });

  it('finds the new archive by the logged name, else by the listing difference, and never guesses', () => {
    const old = { volid: 's:backup/vzdump-lxc-101-2024_05_01-02_00_03.tar.zst', size: 1 };
    const fresh = { volid: 's:backup/vzdump-lxc-101-2024_05_02-02_00_03.tar.zst', size: 2 };
    const other = { volid: 's:backup/vzdump-lxc-102-2024_05_02-02_00_09.tar.zst', size: 3 };
    const key = { vmid: 101, type: 'lxc' as const };
    expect(
      findNewArchive({ ...key, logName: 'vzdump-lxc-101-2024_05_02-02_00_03.tar.zst' }, undefined, [
        old,
        fresh,
      ]),
    ).toBe(fresh);
    expect(findNewArchive(key, [old], [old, fresh, other])).toBe(fresh);
    // Two new archives of the same guest: ambiguous, so nothing is picked (nothing wrong gets deleted).
    const fresh2 = { volid: 's:backup/vzdump-lxc-101-2024_05_02-03_00_03.tar.zst', size: 4 };
    expect(findNewArchive(key, [old], [old, fresh, fresh2])).toBeUndefined();
    expect(findNewArchive(key, undefined, [old, fresh])).toBeUndefined();
  });
});
