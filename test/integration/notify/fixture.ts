/** A run report with one saved and one failed guest, built by the real report code. */
import { buildReport, type RunReport } from '../../../src/orchestrator/report.js';

export function failedNightReport(): RunReport {
  return buildReport({
    runId: 'run-2026-12-04T01-00',
    startedAt: new Date('2026-12-04T01:00:00Z'),
    finishedAt: new Date('2026-12-04T01:20:00Z'),
    interrupted: false,
    clusterFailures: [],
    nodes: [
      {
        cluster: 'home',
        node: 'pve1',
        status: 'done',
        skipped: [],
        warnings: [],
        guests: [
          {
            vmid: 101,
            type: 'lxc',
            name: 'web',
            outcome: 'saved',
            warnings: [],
            files: [],
            nodeCopy: 'deleted',
            archive: { name: 'vzdump-lxc-101.tar.zst', size: 1000, volid: 'x:backup/a' },
          },
          {
            vmid: 102,
            type: 'lxc',
            name: 'db',
            outcome: 'failed',
            error: 'vzdump task ended with ERROR: no space left',
            warnings: [],
            files: [],
            nodeCopy: 'none',
          },
        ],
      },
    ],
  });
}
