import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src/format.js';
import { buildReport, formatReportText, runExitCode } from '../../../src/orchestrator/report.js';
import type { GuestResult, NodeResult } from '../../../src/orchestrator/types.js';

function guest(vmid: number, outcome: GuestResult['outcome'], size = 100): GuestResult {
  return {
    vmid,
    type: 'lxc',
    outcome,
    warnings: [],
    files: [],
    nodeCopy: outcome === 'saved' ? 'deleted' : 'kept',
    ...(outcome === 'saved'
      ? { archive: { name: `vzdump-lxc-${vmid}-x.tar.zst`, size, volid: `s:backup/${vmid}` } }
      : {}),
    ...(outcome !== 'saved' ? { error: 'why' } : {}),
  };
}

function node(name: string, status: NodeResult['status'], guests: GuestResult[]): NodeResult {
  return { cluster: 'c', node: name, status, guests, skipped: [], warnings: [] };
}

const base = { interrupted: false, clusterFailures: [] };

describe('runExitCode', () => {
  it('is 0 when every guest was saved', () => {
    expect(runExitCode({ ...base, nodes: [node('a', 'done', [guest(1, 'saved')])] })).toBe(0);
  });
  it('is 0 when nothing was selected anywhere', () => {
    expect(runExitCode({ ...base, nodes: [node('a', 'nothing-to-do', [])] })).toBe(0);
  });
  it('is 1 when some guests failed and others were saved', () => {
    const nodes = [node('a', 'done', [guest(1, 'saved'), guest(2, 'failed')])];
    expect(runExitCode({ ...base, nodes })).toBe(1);
  });
  it('is 1 when a node is locked while another was saved', () => {
    const nodes = [
      node('a', 'done', [guest(1, 'saved')]),
      node('b', 'locked', [guest(2, 'not-started')]),
    ];
    expect(runExitCode({ ...base, nodes })).toBe(1);
  });
  it('is 1 when backups were attempted and all failed', () => {
    expect(runExitCode({ ...base, nodes: [node('a', 'done', [guest(1, 'failed')])] })).toBe(1);
  });
  it('is 3 when nothing could be done (offline/locked nodes, cluster failures)', () => {
    const nodes = [node('a', 'offline', [guest(1, 'not-started')]), node('b', 'locked', [])];
    expect(runExitCode({ ...base, nodes })).toBe(3);
    expect(
      runExitCode({
        interrupted: false,
        nodes: [],
        clusterFailures: [{ cluster: 'c', kind: 'auth', error: 'no' }],
      }),
    ).toBe(3);
  });
  it('is 1 when a cluster failed but another cluster saved guests', () => {
    expect(
      runExitCode({
        interrupted: false,
        nodes: [node('a', 'done', [guest(1, 'saved')])],
        clusterFailures: [{ cluster: 'x', kind: 'network', error: 'down' }],
      }),
    ).toBe(1);
  });
  it('is 130 when interrupted, whatever else happened', () => {
    const nodes = [node('a', 'done', [guest(1, 'saved')])];
    expect(runExitCode({ interrupted: true, nodes, clusterFailures: [] })).toBe(130);
  });
  it('is 1 when rotation failed after guests were saved', () => {
    expect(runExitCode({ ...base, nodes: [node('a', 'error', [guest(1, 'saved')])] })).toBe(1);
  });
});

describe('buildReport', () => {
  it('summarises counts, bytes and the exit code, and survives a JSON round trip', () => {
    const nodes = [
      node('a', 'done', [guest(101, 'saved', 1000), guest(102, 'failed')]),
      node('b', 'done', [guest(201, 'saved', 24)]),
    ];
    const report = buildReport({
      runId: 'r1',
      startedAt: new Date('2026-11-30T02:00:00Z'),
      finishedAt: new Date('2026-11-30T02:01:05Z'),
      interrupted: false,
      nodes,
      clusterFailures: [],
    });
    expect(report.summary).toMatchObject({ nodes: 2, saved: 2, failed: 1, bytesSaved: 1024 });
    expect(report.durationMs).toBe(65_000);
    expect(report.exitCode).toBe(1);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const text = formatReportText(report);
    expect(text).toContain('2 saved, 1 failed');
    expect(text).toMatch(/a\s+102\s+failed/);
  });
  it('lists generations kept past retention with their reason', () => {
    const n = node('a', 'done', [guest(1, 'saved')]);
    n.rotation = {
      rotated: true,
      removed: [],
      promoted: [],
      retainedPastKeep: [{ name: 'daily.3', reason: 'newest good copy of 105' }],
      steps: [],
    };
    const report = buildReport({
      ...base,
      runId: 'r',
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      nodes: [n],
    });
    expect(formatReportText(report)).toContain(
      'kept daily.3 past retention: newest good copy of 105',
    );
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1024 ** 3)).toBe('1.0 GiB');
  });
});
