/**
 * PVE 3.4 through the BUILT CLI: OpenVZ containers (`/openvz`), user +
 * password (ticket + CSRF; no API tokens before 6.2), lzo (no zstd on 3.x),
 * the synchronous volume delete that leaves the .log behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { archives, nasLayout, nodeFiles, startWorld, type World } from './support/world.js';

const MiB = 1024 * 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '3.4',
    auth: 'ticket',
    keep: 3,
    backupDurationMs: 50,
    nodes: [
      {
        name: 'oldpve',
        guests: [
          { vmid: 101, type: 'openvz', name: 'ct101', status: 'running', archiveSize: 1 * MiB },
          { vmid: 102, type: 'openvz', name: 'ct102', status: 'mounted', archiveSize: 1 * MiB },
          { vmid: 103, type: 'openvz', name: 'ct103', status: 'running', archiveSize: 1 * MiB },
        ],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

describe('PVE 3.4 with OpenVZ', () => {
  it('backs up the running OpenVZ containers with a ticket, twice, into daily.0 and daily.1', async () => {
    for (let night = 0; night < 2; night++) {
      const r = await runCli(['run', '-c', world.configPath, '--json'], {
        env: world.env,
        cwd: world.tmp,
      });
      expect(r.code, r.stderr).toBe(0);
      const report = jsonReport<RunReport>(r);
      expect(report.nodes[0]?.pveVersion).toMatch(/^3\./);
      expect(report.nodes[0]?.guests.map((g) => [g.vmid, g.type, g.outcome, g.nodeCopy])).toEqual([
        [101, 'openvz', 'saved', 'deleted'],
        [103, 'openvz', 'saved', 'deleted'],
      ]);
    }
    const tree = await nasLayout(world);
    expect(Object.keys(tree.oldpve ?? {}).sort()).toEqual(['daily.0', 'daily.1']);
    expect(archives(tree.oldpve?.['daily.0'] ?? [])).toEqual([
      expect.stringMatching(/^vzdump-openvz-101-.*\.tar\.lzo$/),
      expect.stringMatching(/^vzdump-openvz-103-.*\.tar\.lzo$/),
    ]);
    expect(await nodeFiles(world, 'oldpve').then(archives)).toEqual([]);
    // No token and no JSON body on 3.4: every write carried the CSRF token of a ticket.
    const writes = world.sim.requests.filter(
      (q) => q.method !== 'GET' && q.path !== '/access/ticket',
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w.headers.csrfpreventiontoken).toBeTruthy();
  }, 90_000);
});
