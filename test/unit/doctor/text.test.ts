import { describe, expect, it } from 'vitest';
import { doctorText } from '../../../src/doctor/text.js';
import type { DoctorReport } from '../../../src/doctor/types.js';

describe('doctorText', () => {
  it('groups lines under cluster and NAS headings, node column aligned, fix after the message', () => {
    const report: DoctorReport = {
      version: 1,
      generatedAt: '2026-12-05T00:00:00Z',
      groups: [
        {
          kind: 'cluster',
          name: 'home',
          node: '',
          lines: [{ check: 'version', status: 'ok', message: 'PVE 8.4.1' }],
        },
        {
          kind: 'cluster',
          name: 'home',
          node: 'pve1',
          lines: [
            {
              check: 'storage.prune',
              status: 'fail',
              message: 'ftp-staging prunes backups',
              fix: 'pvesm set ftp-staging --prune-backups keep-all=1',
            },
          ],
        },
        {
          kind: 'nas',
          name: 'nas:21',
          node: '',
          lines: [{ check: 'nas.reachable', status: 'ok', message: 'logged in as backup' }],
        },
      ],
      counts: { ok: 2, warn: 0, fail: 1 },
      exitCode: 1,
    };
    expect(doctorText(report)).toBe(
      [
        'cluster home',
        '  -     ok    PVE 8.4.1',
        '  pve1  fail  ftp-staging prunes backups: pvesm set ftp-staging --prune-backups keep-all=1',
        '',
        'NAS nas:21',
        '  -     ok    logged in as backup',
        '',
        '3 check(s): 2 ok, 0 warn, 1 fail',
        '',
      ].join('\n'),
    );
  });
});
