/**
 * A node run killed (kill -9) right after a node copy was deleted, then the
 * nights after it, against the real lock/verify/rotation code on an in-memory
 * NAS: a verified copy whose node copy is gone must count as a good copy, or
 * retention removes it while the guest keeps failing.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { ftpNodeNas } from '../../../src/orchestrator/ftpNodeNas.js';
import type { NodeApi, OpenNodeNas } from '../../../src/orchestrator/nodeNas.js';
import { runNode } from '../../../src/orchestrator/nodeRunner.js';
import type { NodePlan } from '../../../src/orchestrator/plan.js';
import type { PveBackupVolume } from '../../../src/pveApi/index.js';
import { MemoryFs } from '../../support/memoryFs.js';

const logger = silentLogger();
const NODE_DIR = '/dump/pve1';
const keep = 1;

/** One night's PVE node: guests in `failing` fail vzdump, the others are uploaded by the "hook". */
function nodeApi(fs: MemoryFs, night: number, failing: Set<number>, onDelete: () => void) {
  const storage: PveBackupVolume[] = [];
  const tasks = new Map<string, { lines: string[]; exitstatus: string }>();
  const api: NodeApi = {
    async startVzdump(_node, params) {
      const upid = `UPID:pve1:${night}${params.vmid}:vzdump:${params.vmid}:`;
      const name = `vzdump-lxc-${params.vmid}-2026_12_0${night}-02_00_00.tar.zst`;
      const ok = !failing.has(params.vmid);
      const lines = [`INFO: creating vzdump archive '/dump/${name}'`];
      if (ok) {
        const data = `night ${night} guest ${params.vmid}`;
        storage.push({ volid: `st:backup/${name}`, size: data.length, vmid: params.vmid });
        fs.seedFile(`${NODE_DIR}/transfer/${name}`, data);
        fs.seedFile(`${NODE_DIR}/transfer/${name.replace('.tar.zst', '.log')}`, 'log');
        lines.push('TASK OK');
      } else {
        lines.push(`ERROR: Backup of VM ${params.vmid} failed - boom`, 'TASK ERROR: boom');
      }
      tasks.set(upid, { lines, exitstatus: ok ? 'OK' : 'boom' });
      return { upid };
    },
    async taskStatus(_node, upid) {
      return { upid, status: 'stopped', exitstatus: tasks.get(upid)?.exitstatus ?? 'OK' };
    },
    async taskLog(_node, upid, start, limit) {
      const lines = (tasks.get(upid)?.lines ?? []).map((t, i) => ({ n: i + 1, t }));
      return { lines: lines.slice(start, start + limit), total: lines.length };
    },
    async stopTask() {},
    async backupContent() {
      return storage.map((v) => ({ ...v }));
    },
    async deleteVolume(_node, _storage, volid) {
      storage.splice(
        storage.findIndex((v) => v.volid === volid),
        1,
      );
      onDelete();
      return {};
    },
  };
  return api;
}

/** The real node adapter (lock, verify, rotation) bound to the in-memory NAS instead of FTP. */
function memoryNas(fs: MemoryFs, runId: string): OpenNodeNas {
  return ftpNodeNas(
    {
      ftp: {
        host: 'nas',
        port: 21,
        user: 'u',
        password: 'p',
        secure: false,
        dir: '/dump',
        insecure: false,
      },
      retention: { keep },
      runId,
      logger,
      startedAt: new Date(),
    },
    async () => fs,
  );
}

const plan: NodePlan = {
  cluster: 'c',
  node: 'pve1',
  online: true,
  pveVersion: '8.4.1',
  guests: [101, 102].map((vmid) => ({ vmid, type: 'lxc', status: 'running', explicit: false })),
  skipped: [],
};

async function night(fs: MemoryFs, n: number, failing: number[], killAfterFirstDelete = false) {
  const api = nodeApi(fs, n, new Set(failing), () => {
    // kill -9 right after PVE deleted the node copy: the NAS sees nothing more from this run.
    if (killAfterFirstDelete) fs.crashAfter(0);
  });
  const runId = `night${n}`;
  return runNode(
    plan,
    {
      runId,
      storage: 'st',
      mode: 'snapshot',
      compress: 'zstd',
      rotate: true,
      breakLock: true,
    },
    {
      api,
      openNas: memoryNas(fs, runId),
      logger,
      signal: new AbortController().signal,
      forceSignal: new AbortController().signal,
      watch: { sleep: async () => {}, firstPollMs: 0, intervalMs: 0 },
    },
  );
}

const copiesOf = (fs: MemoryFs, vmid: number) =>
  Object.keys(fs.snapshot(NODE_DIR)).filter(
    (p) => p.includes(`vzdump-lxc-${vmid}-`) && p.endsWith('.zst'),
  );

describe('a node run killed after a node copy was deleted', () => {
  it('leaves that verified copy counted as good: it outlives keep while the guest keeps failing', async () => {
    const fs = new MemoryFs();
    fs.seedDir(NODE_DIR);
    // Night 1: guest 101 is verified, its node copy deleted, then the run is killed.
    const first = await night(fs, 1, [], true);
    expect(first.guests[0]).toMatchObject({ vmid: 101, outcome: 'saved', nodeCopy: 'deleted' });
    fs.heal();
    expect(copiesOf(fs, 101)).toHaveLength(1);
    // Nights 2 and 3: guest 101 fails, 102 is saved; keep=1.
    for (const n of [2, 3]) {
      const r = await night(fs, n, [101]);
      expect(r.guests.map((g) => g.outcome)).toEqual(['failed', 'saved']);
    }
    // Guest 101's only copy — verified, node copy gone — must still be on the NAS.
    expect(copiesOf(fs, 101)).toHaveLength(1);
  });
});
