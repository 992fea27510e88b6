import { describe, expect, it } from 'vitest';
import { isDue } from '../../../src/notify/index.js';
import {
  notificationBody,
  notificationTitle,
  ntfyPriority,
  ntfyTags,
  outcomeOf,
} from '../../../src/notify/summary.js';
import type { RunReportLike } from '../../../src/notify/types.js';

function report(over: Partial<RunReportLike> = {}): RunReportLike {
  return {
    runId: 'r1',
    startedAt: '2026-12-04T01:00:00.000Z',
    finishedAt: '2026-12-04T01:10:00.000Z',
    interrupted: false,
    summary: {
      nodes: 1,
      nodesNotDone: 0,
      guestsSelected: 0,
      saved: 0,
      failed: 0,
      notStarted: 0,
      warnings: 0,
      bytesSaved: 0,
    },
    clusterFailures: [],
    nodes: [],
    ...over,
  };
}

describe('outcome, priority, tags', () => {
  it.each([
    [0, false, 'ok', 3],
    [1, false, 'failed', 4],
    [3, false, 'nothing-done', 5],
    [130, true, 'interrupted', 4],
    [1, true, 'interrupted', 4],
  ] as const)('exit %d (interrupted %s) is %s, priority %d', (code, interrupted, outcome, prio) => {
    expect(outcomeOf(code, interrupted)).toBe(outcome);
    expect(ntfyPriority(outcomeOf(code, interrupted))).toBe(prio);
  });
  it('tags carry an emoji name and a word to filter on', () => {
    expect(ntfyTags('ok')).toEqual(['white_check_mark', 'backup-ok']);
    expect(ntfyTags('nothing-done')).toContain('backup-failed');
  });
  it('on: failure is due only for a non-zero exit; always is always due', () => {
    expect(isDue('failure', 0)).toBe(false);
    expect(isDue('failure', 3)).toBe(true);
    expect(isDue('always', 0)).toBe(true);
  });
});

describe('title and body', () => {
  it('the title is ASCII even when names are not (it travels in a header)', () => {
    const r = report({
      nodes: [
        {
          cluster: 'häusle',
          node: 'pve1',
          status: 'done',
          guests: [{ vmid: 101, name: 'büro', outcome: 'failed', error: 'kaputt' }],
        },
      ],
    });
    expect(notificationTitle(r, 1)).toMatch(/^[\x20-\x7e]+$/);
    expect(notificationBody(r, 1)).toContain('häusle/pve1 101 (büro): failed: kaputt');
  });

  it('lists cluster failures, nodes not done and guests not saved; caps at 20', () => {
    const guests = Array.from({ length: 25 }, (_, i) => ({
      vmid: 200 + i,
      outcome: 'not-started' as const,
    }));
    const body = notificationBody(
      report({
        clusterFailures: [{ cluster: 'far', kind: 'tls', error: 'fingerprint mismatch' }],
        nodes: [
          { cluster: 'home', node: 'pve2', status: 'locked', reason: 'held by run x', guests: [] },
          { cluster: 'home', node: 'pve1', status: 'done', guests },
        ],
      }),
      1,
    );
    expect(body).toContain('cluster far: tls: fingerprint mismatch');
    expect(body).toContain('home/pve2: locked: held by run x');
    expect(body).toContain('home/pve1 217: not-started');
    expect(body).not.toContain('home/pve1 218');
    expect(body).toContain('… and 7 more');
  });
});
