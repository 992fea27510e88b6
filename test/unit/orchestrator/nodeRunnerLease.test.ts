/**
 * The node lock as a lease and a NAS that stops answering, through the real
 * node adapter (lock, verify, rotation) bound to the in-memory NAS with its
 * own clock: a stale lock is taken over with a warning; a lost lease starts no
 * further guest; a silent NAS stops the running vzdump and ends the node.
 */
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../../src/ftp/lock.js';
import { silentLogger } from '../../../src/log.js';
import { ftpNodeNas } from '../../../src/orchestrator/ftpNodeNas.js';
import type { NodeApi, OpenNodeNas } from '../../../src/orchestrator/nodeNas.js';
import { runNode } from '../../../src/orchestrator/nodeRunner.js';
import type { NodePlan } from '../../../src/orchestrator/plan.js';
import type { PveBackupVolume } from '../../../src/pveApi/index.js';
import { MemoryFs } from '../../support/memoryFs.js';

const logger = silentLogger();
const NODE_DIR = '/dump/pve1';
const LOCK = `${NODE_DIR}/.lock`;
const LEASE = 600_000;

interface Hooks {
  /** Called when vzdump of `vmid` starts. */
  onStart?: (vmid: number) => void;
  /** Task status polls answered `running` before the task ends (unless stopped). */
  runningPolls?: number;
  /** The task runs until it is stopped. */
  untilStopped?: boolean;
}

/** A PVE node whose vzdump "uploads" into the in-memory NAS and runs for a few polls. */
function nodeApi(fs: MemoryFs, h: Hooks) {
  const storage: PveBackupVolume[] = [];
  const tasks = new Map<string, { polls: number; stopped: boolean; ok: boolean }>();
  const events: string[] = [];
  const api: NodeApi = {
    async startVzdump(_node, params) {
      events.push(`vzdump ${params.vmid}`);
      const upid = `UPID:pve1:${params.vmid}:vzdump:${params.vmid}:`;
      const name = `vzdump-lxc-${params.vmid}-2026_12_01-02_00_00.tar.zst`;
      const data = `guest ${params.vmid}`;
      storage.push({ volid: `st:backup/${name}`, size: data.length, vmid: params.vmid });
      fs.seedFile(`${NODE_DIR}/transfer/${name}`, data);
      tasks.set(upid, { polls: 0, stopped: false, ok: true });
      h.onStart?.(params.vmid);
      return { upid };
    },
    async taskStatus(_node, upid) {
      const t = tasks.get(upid);
      if (!t) throw new Error('no task');
      t.polls++;
      const running = t.stopped ? false : h.untilStopped || t.polls <= (h.runningPolls ?? 0);
      if (running) return { upid, status: 'running' };
      return { upid, status: 'stopped', exitstatus: t.stopped ? 'interrupted by signal' : 'OK' };
    },
    async taskLog(_node, upid) {
      const t = tasks.get(upid);
      const lines = t?.stopped
        ? ['ERROR: interrupted by signal', 'TASK ERROR: interrupted by signal']
        : [];
      return { lines: lines.map((l, i) => ({ n: i + 1, t: l })), total: lines.length };
    },
    async stopTask(_node, upid) {
      events.push(`stop ${upid.split(':')[2]}`);
      const t = tasks.get(upid);
      if (t) t.stopped = true;
    },
    async backupContent() {
      return storage.map((v) => ({ ...v }));
    },
    async deleteVolume(_node, _storage, volid) {
      events.push(`delete ${volid.replace(/^.*vzdump-lxc-(\d+)-.*$/, '$1')}`);
      storage.splice(
        storage.findIndex((v) => v.volid === volid),
        1,
      );
      return {};
    },
  };
  return { api, events, storage };
}

/** The real node adapter over the in-memory NAS, renewing every few ms. */
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
      retention: { keep: 3 },
      runId,
      logger,
      startedAt: new Date(),
      lockLeaseMs: LEASE,
      renewEveryMs: 5,
    },
    async () => fs,
  );
}

const plan = (vmids: number[]): NodePlan => ({
  cluster: 'c',
  node: 'pve1',
  online: true,
  pveVersion: '8.4.1',
  guests: vmids.map((vmid) => ({ vmid, type: 'lxc', status: 'running', explicit: false })),
  skipped: [],
});

const sleep = (ms: number, signal?: AbortSignal, wake: AbortSignal[] = []) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (wake.some((w) => w.aborted)) return resolve();
    const t = setTimeout(resolve, ms);
    for (const w of wake)
      w.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
  });

function run(fs: MemoryFs, api: NodeApi, vmids: number[], runId = 'run-b') {
  return runNode(
    plan(vmids),
    { runId, storage: 'st', mode: 'snapshot', compress: 'zstd', rotate: true, breakLock: false },
    {
      api,
      openNas: memoryNas(fs, runId),
      logger,
      signal: new AbortController().signal,
      forceSignal: new AbortController().signal,
      // Real (short) sleeps: the lease keeper's timer must get its turns while a task runs.
      watch: { sleep, firstPollMs: 1, intervalMs: 10, statusEvery: 1 },
    },
  );
}

function nas(): MemoryFs {
  const fs = new MemoryFs();
  fs.seedDir(NODE_DIR);
  return fs;
}

describe('node run under a lease', () => {
  it('takes over a lock a killed run on another host left, warning with the old holder', async () => {
    const fs = nas();
    const killed = await acquireLock(
      fs,
      LOCK,
      { runId: 'run-killed', host: 'ci-pod-7f3a', pid: 31, startedAt: '2026-11-30T02:00:00Z' },
      { breakLock: false, leaseMs: LEASE },
    );
    expect(killed.acquired).toBe(true);
    fs.advance(LEASE + 1000);
    const { api } = nodeApi(fs, {});
    const r = await run(fs, api, [101]);
    expect(r.status).toBe('done');
    expect(r.guests.map((g) => g.outcome)).toEqual(['saved']);
    expect(r.lockTakenOver).toEqual({
      holder: {
        runId: 'run-killed',
        host: 'ci-pod-7f3a',
        pid: 31,
        startedAt: '2026-11-30T02:00:00Z',
      },
      idleMs: LEASE + 1000,
    });
    expect(r.warnings.join('\n')).toMatch(
      /took over stale node lock .* run run-killed \(host ci-pod-7f3a/,
    );
    // Released at the end, takeover marker and all.
    expect(fs.snapshot(LOCK)).toEqual({});
  });

  it('a fresh lock of another host is not taken: the node is skipped naming the holder', async () => {
    const fs = nas();
    await acquireLock(
      fs,
      LOCK,
      { runId: 'run-a', host: 'ci-pod-1', pid: 31, startedAt: '2026-12-01T02:00:00Z' },
      { breakLock: false, leaseMs: LEASE },
    );
    fs.advance(LEASE - 60_000);
    const { api, events } = nodeApi(fs, {});
    const r = await run(fs, api, [101]);
    expect(r.status).toBe('locked');
    expect(r.lockHolder?.runId).toBe('run-a');
    expect(r.reason).toMatch(/held by run run-a .*last renewed 9m00s ago/);
    expect(events).toEqual([]);
  });

  it('keeps renewing while a guest runs', async () => {
    const fs = nas();
    let writesBefore = 0;
    const { api } = nodeApi(fs, {
      runningPolls: 8,
      onStart: () => {
        writesBefore = fs.calls.writeText ?? 0;
      },
    });
    const r = await run(fs, api, [101]);
    expect(r.status).toBe('done');
    // The holder file was rewritten while the task ran (beyond the manifest writes).
    expect((fs.calls.writeText ?? 0) - writesBefore).toBeGreaterThan(2);
  });

  it('a lost lease starts no further guest: the running one finishes, the rest are not started', async () => {
    const fs = nas();
    const { api, events } = nodeApi(fs, {
      runningPolls: 5,
      onStart: (vmid) => {
        // Another run breaks the lock (--break-lock) while guest 101 runs.
        if (vmid === 101)
          void acquireLock(
            fs,
            LOCK,
            { runId: 'run-c', host: 'admin', pid: 1, startedAt: '2026-12-01T02:00:00Z' },
            { breakLock: true, leaseMs: LEASE },
          );
      },
    });
    const r = await run(fs, api, [101, 102, 103]);
    expect(events.filter((e) => e.startsWith('vzdump'))).toEqual(['vzdump 101']);
    expect(r.guests.map((g) => [g.vmid, g.outcome])).toEqual([
      [101, 'saved'],
      [102, 'not-started'],
      [103, 'not-started'],
    ]);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/lost the node lock: .*held by run run-c/);
    expect(r.guests[1]?.error).toMatch(/lost the node lock/);
    // The other run's lock is left alone.
    expect(JSON.parse(fs.snapshot(LOCK)['holder.json'] ?? '{}').runId).toBe('run-c');
  });

  it('a NAS that goes silent during a vzdump: the task is stopped, the rest not started, the release tried once', async () => {
    const fs = nas();
    const { api, events } = nodeApi(fs, {
      untilStopped: true,
      onStart: (vmid) => {
        if (vmid === 101) setTimeout(() => fs.goSilent(), 20);
      },
    });
    const t0 = Date.now();
    const r = await run(fs, api, [101, 102]);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(events).toEqual(['vzdump 101', 'stop 101']);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/the NAS does not answer/);
    expect(r.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'failed', 'kept'],
      [102, 'not-started', 'none'],
    ]);
    expect(r.guests[1]?.error).toMatch(/the NAS does not answer/);
    expect(r.warnings.join('\n')).toMatch(
      /could not release the node lock: the NAS still does not answer/,
    );
    // Nothing was rotated and no manifest written after the NAS went silent.
    expect(r.rotation).toBeUndefined();
  });

  it('releases the lock when the NAS answers again for the last attempt', async () => {
    const fs = nas();
    fs.reviveAnswers = true;
    const { api } = nodeApi(fs, {
      untilStopped: true,
      onStart: () => setTimeout(() => fs.goSilent(), 20),
    });
    const r = await run(fs, api, [101]);
    expect(r.status).toBe('error');
    expect(r.warnings).toEqual([]);
    expect(fs.snapshot(LOCK)).toEqual({});
  });

  it('a NAS that goes silent as a task ends: that guest fails its check, the next is not started', async () => {
    const fs = nas();
    const { api, events } = nodeApi(fs, { runningPolls: 2 });
    const status = api.taskStatus;
    api.taskStatus = async (...args) => {
      const s = await status(...args);
      if (s.status === 'stopped') fs.goSilent();
      return s;
    };
    const r = await run(fs, api, [101, 102]);
    expect(events).toEqual(['vzdump 101']);
    expect(r.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'failed', 'kept'],
      [102, 'not-started', 'none'],
    ]);
    expect(r.guests[0]?.error).toMatch(/could not verify the NAS copy/);
    expect(r.reason).toMatch(/the NAS does not answer/);
  });

  it('once one node found the NAS silent, a node that starts later fails at once', async () => {
    const fs = nas();
    fs.seedDir('/dump/pve2');
    const openNas = memoryNas(fs, 'run-b');
    const first = await openNas('pve1');
    fs.goSilent();
    const t0 = Date.now();
    await expect(openNas('pve2')).rejects.toThrow(
      /the NAS does not answer \(another node's session/,
    );
    expect(Date.now() - t0).toBeLessThan(100);
    first.close();
  });
});
