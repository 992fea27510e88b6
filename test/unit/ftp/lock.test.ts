import { describe, expect, it } from 'vitest';
import { acquireLock, type LockInfo } from '../../../src/ftp/lock.js';
import { MemoryFs, MemoryFsError } from '../../support/memoryFs.js';

const me: LockInfo = {
  runId: 'run-a',
  host: 'cron-host',
  pid: process.pid,
  startedAt: '2026-11-30T02:00:00.000Z',
};

/** A NAS whose disk is full: directories can be made, files cannot be stored. */
class FullDisk extends MemoryFs {
  override async writeText(path: string, _text: string): Promise<void> {
    throw new MemoryFsError(
      552,
      `${path}: Requested file action aborted. Exceeded storage allocation`,
    );
  }
}

describe('node lock (in memory)', () => {
  it('leaves no lock behind when its holder file cannot be written', async () => {
    const fs = new FullDisk();
    fs.seedDir('/dump');
    await expect(acquireLock(fs, '/dump/pve1/.lock', me, { breakLock: false })).rejects.toThrow(
      /Exceeded storage/,
    );
    // Otherwise every later run is refused ("names no holder") until someone breaks it.
    expect(await fs.list('/dump/pve1')).toEqual([]);
  });
});
