import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../../src/ftp/manifest.js';
import type { VerifyResult } from '../../../src/ftp/verify.js';
import { silentLogger } from '../../../src/log.js';
import { nasTimings } from '../../../src/orchestrator/nasTimings.js';
import type { NodeApi, NodeNas } from '../../../src/orchestrator/nodeNas.js';
import { runNode } from '../../../src/orchestrator/nodeRunner.js';
import type { NodePlan } from '../../../src/orchestrator/plan.js';
import type { PveBackupVolume } from '../../../src/pveApi/index.js';

type GuestScript = {
  /** vzdump answer: a task (default) or PVE's plain "OK" (nothing started). */
  answer?: 'upid' | 'OK';
  exitstatus?: string;
  errorLine?: string;
  /** Whether the archive lands on the NAS / its log too. */
  uploaded?: boolean;
  logUploaded?: boolean;
  /** Whether vzdump leaves an archive on the node even when it fails. */
  archiveOnFailure?: boolean;
  deleteFails?: boolean;
  /** The delete answers with an imgdel task (PVE >= 5) that ends OK or with this error. */
  deleteTask?: { error?: string };
};

/** A node of fakes: the API writes archives into `storage`, the NAS "receives" uploads into `transfer`. */
function world(
  scripts: Record<number, GuestScript>,
  opts: { lockHeld?: boolean; finishFails?: boolean } = {},
) {
  const storage: PveBackupVolume[] = [];
  const transfer = new Map<string, number>();
  const events: string[] = [];
  const tasks = new Map<string, { vmid: number; lines: string[]; exitstatus: string }>();
  const imgdel = new Map<string, { vmid: number; error?: string }>();
  let n = 0;
  const api: NodeApi = {
    async startVzdump(_node, params) {
      const s = scripts[params.vmid] ?? {};
      events.push(`vzdump ${params.vmid} remove=${params.remove} storage=${params.storage}`);
      if (s.answer === 'OK') return { upid: undefined, answer: 'OK' };
      const upid = `UPID:pve1:${++n}:vzdump:${params.vmid}:`;
      const name = `vzdump-lxc-${params.vmid}-2026_11_30-02_00_0${n}.tar.zst`;
      const exitstatus = s.exitstatus ?? 'OK';
      const ok = exitstatus === 'OK' || exitstatus.startsWith('WARNINGS');
      const lines = [`INFO: creating vzdump archive '/dump/${name}'`];
      if (!ok) lines.push(s.errorLine ?? `ERROR: Backup of VM ${params.vmid} failed - boom`);
      lines.push(`TASK ${ok ? exitstatus : `ERROR: ${exitstatus}`}`);
      if (ok || s.archiveOnFailure)
        storage.push({ volid: `st:backup/${name}`, size: params.vmid * 10, vmid: params.vmid });
      if (ok && s.uploaded !== false) {
        transfer.set(name, params.vmid * 10);
        if (s.logUploaded !== false) transfer.set(name.replace('.tar.zst', '.log'), 7);
      }
      tasks.set(upid, { vmid: params.vmid, lines, exitstatus });
      return { upid };
    },
    async taskStatus(_node, upid) {
      const del = imgdel.get(upid);
      if (del) {
        // The delete task ends only once the next guest's vzdump has started (or 2 s passed):
        // a runner that waited for it before the next guest would show it in `events`.
        const until = Date.now() + 2000;
        while (!events.some((e) => e.startsWith(`vzdump ${del.vmid + 1} `)) && Date.now() < until)
          await new Promise((r) => setTimeout(r, 5));
        events.push(`imgdel ${del.vmid} ended`);
        return { upid, status: 'stopped', exitstatus: del.error ?? 'OK' };
      }
      return { upid, status: 'stopped', exitstatus: tasks.get(upid)?.exitstatus ?? 'OK' };
    },
    async taskLog(_node, upid, start, limit) {
      const lines = (tasks.get(upid)?.lines ?? ['TASK OK']).map((t, i) => ({ n: i + 1, t }));
      return { lines: lines.slice(start, start + limit), total: lines.length };
    },
    async stopTask() {},
    async backupContent() {
      return storage.map((v) => ({ ...v }));
    },
    async deleteVolume(_node, _storage, volid) {
      const vmid = Number(/-(\d+)-/.exec(volid)?.[1]);
      if (scripts[vmid]?.deleteFails) throw new Error('500 permission denied');
      events.push(`delete ${volid}`);
      const task = scripts[vmid]?.deleteTask;
      if (task) {
        const upid = `UPID:pve1:${++n}:imgdel::`;
        imgdel.set(upid, { vmid, ...(task.error ? { error: task.error } : {}) });
        if (!task.error)
          storage.splice(
            storage.findIndex((v) => v.volid === volid),
            1,
          );
        return { upid };
      }
      const i = storage.findIndex((v) => v.volid === volid);
      storage.splice(i, 1);
      return {};
    },
  };
  const manifests: { manifest: Manifest; rotate: boolean }[] = [];
  const nas: NodeNas = {
    async lock() {
      events.push('lock');
      if (opts.lockHeld)
        return {
          acquired: false,
          holder: { runId: 'r0', host: 'other', pid: 42, startedAt: '2026-12-01T02:00:00Z' },
          message: 'held by other pid 42',
        };
      return {
        acquired: true,
        renew: async () => {},
        release: async () => {
          events.push('release');
        },
      };
    },
    async heal() {
      events.push('heal');
      return [];
    },
    async readTransferText() {
      return undefined;
    },
    async verify(expected) {
      return expected.map((e): VerifyResult => {
        const size = transfer.get(e.name);
        if (size === undefined) return { name: e.name, ok: false, problem: 'missing' };
        if (e.size !== undefined && e.size !== size)
          return {
            name: e.name,
            ok: false,
            expectedSize: e.size,
            actualSize: size,
            problem: 'size differs',
          };
        return { name: e.name, ok: true, actualSize: size };
      });
    },
    async finish(manifest, rotate) {
      events.push(`finish rotate=${rotate}`);
      if (opts.finishFails) throw new Error('451 rename failed');
      manifests.push({ manifest, rotate });
      return { rotated: rotate, removed: [], promoted: [], retainedPastKeep: [], steps: [] };
    },
    timings: nasTimings(600_000),
    gone: new AbortController().signal,
    revive: async () => true,
    close() {
      events.push('close');
    },
  };
  return { api, nas, storage, transfer, events, manifests };
}

function plan(vmids: number[], extra: Partial<NodePlan> = {}): NodePlan {
  return {
    cluster: 'c',
    node: 'pve1',
    online: true,
    pveVersion: '8.4.1',
    guests: vmids.map((vmid) => ({
      vmid,
      type: 'lxc',
      name: `ct${vmid}`,
      status: 'running',
      explicit: false,
    })),
    skipped: [],
    ...extra,
  };
}

const settings = {
  runId: 'r1',
  storage: 'st',
  mode: 'snapshot',
  compress: 'zstd',
  rotate: true,
  breakLock: false,
} as const;
const instant = async (_ms: number, signal?: AbortSignal) => {
  if (signal?.aborted) throw signal.reason;
};

function ctx(w: ReturnType<typeof world>, signal = new AbortController().signal) {
  return {
    api: w.api,
    openNas: async () => w.nas,
    logger: silentLogger(),
    signal,
    forceSignal: new AbortController().signal,
    watch: { sleep: instant, firstPollMs: 0, intervalMs: 0 },
  };
}

describe('runNode', () => {
  it('saves every guest in turn: vzdump without pruning, verify, then delete the node copy; manifest and rotation last', async () => {
    const w = world({});
    const r = await runNode(plan([101, 102]), settings, ctx(w));
    expect(r.status).toBe('done');
    expect(r.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'saved', 'deleted'],
      [102, 'saved', 'deleted'],
    ]);
    expect(w.storage).toHaveLength(0);
    expect(w.events).toEqual([
      'lock',
      'heal',
      'vzdump 101 remove=0 storage=st',
      // The manifest in transfer/ records the guest as saved before its node copy goes.
      'finish rotate=false',
      'delete st:backup/vzdump-lxc-101-2026_11_30-02_00_01.tar.zst',
      'vzdump 102 remove=0 storage=st',
      'finish rotate=false',
      'delete st:backup/vzdump-lxc-102-2026_11_30-02_00_02.tar.zst',
      'finish rotate=true',
      'release',
      'close',
    ]);
    expect(w.manifests.map((x) => x.manifest.guests.map((g) => [g.vmid, g.status]))).toEqual([
      [[101, 'saved']],
      [
        [101, 'saved'],
        [102, 'saved'],
      ],
      [
        [101, 'saved'],
        [102, 'saved'],
      ],
    ]);
    const m = w.manifests[2]?.manifest;
    expect(m?.guests.map((g) => [g.vmid, g.status, g.files.map((f) => f.size)])).toEqual([
      [101, 'saved', [1010, 7]],
      [102, 'saved', [1020, 7]],
    ]);
  });

  it('makes transfer/ for the hooks after healing, before the first vzdump; a failure there only warns', async () => {
    const w = world({});
    w.nas.makeTransfer = async () => {
      w.events.push('make transfer');
    };
    await runNode(plan([101, 102]), settings, ctx(w));
    expect(w.events.slice(0, 4)).toEqual([
      'lock',
      'heal',
      'make transfer',
      'vzdump 101 remove=0 storage=st',
    ]);
    expect(w.events.filter((e) => e === 'make transfer')).toHaveLength(1);

    const refused = world({});
    refused.nas.makeTransfer = async () => {
      throw new Error('550 permission denied');
    };
    const r = await runNode(plan([101]), settings, ctx(refused));
    // The hook makes the directory itself, or fails that guest with its own clear line.
    expect(r.status).toBe('done');
    expect(r.guests.map((g) => g.outcome)).toEqual(['saved']);
  });

  it('keeps the node copy of a guest whose upload did not arrive, and goes on with the next guest', async () => {
    const w = world({ 101: { uploaded: false } });
    const r = await runNode(plan([101, 102]), settings, ctx(w));
    const [a, b] = r.guests;
    expect(a).toMatchObject({ outcome: 'failed', nodeCopy: 'kept' });
    expect(a?.error).toMatch(/NAS copy not verified/);
    expect(b).toMatchObject({ outcome: 'saved', nodeCopy: 'deleted' });
    expect(w.storage.map((v) => v.volid)).toEqual([
      'st:backup/vzdump-lxc-101-2026_11_30-02_00_01.tar.zst',
    ]);
    expect(w.events.filter((e) => e.startsWith('delete'))).toHaveLength(1);
  });

  it('never deletes a node copy whose NAS size differs', async () => {
    const w = world({});
    const origVerify = w.nas.verify;
    w.nas.verify = async (expected) => {
      for (const e of expected)
        if (w.transfer.has(e.name) && e.name.endsWith('.zst')) w.transfer.set(e.name, 1);
      return origVerify(expected);
    };
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]).toMatchObject({ outcome: 'failed', nodeCopy: 'kept' });
    expect(w.events.some((e) => e.startsWith('delete'))).toBe(false);
  });

  it('counts a missing .log as a warning, not a failure', async () => {
    const w = world({ 101: { logUploaded: false } });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]).toMatchObject({ outcome: 'saved', nodeCopy: 'deleted' });
    expect(r.guests[0]?.warnings.join()).toMatch(/\.log did not arrive/);
  });

  it('records a vzdump failure with its ERROR line and keeps a complete archive on the node', async () => {
    const w = world({
      101: {
        exitstatus: 'job errors',
        archiveOnFailure: true,
        errorLine: 'ERROR: Backup of VM 101 failed - command hook backup-end failed: exit code 7',
      },
    });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]?.outcome).toBe('failed');
    expect(r.guests[0]?.error).toContain('exit code 7');
    expect(r.guests[0]?.nodeCopy).toBe('kept');
    expect(w.manifests[0]?.manifest.guests[0]).toMatchObject({ vmid: 101, status: 'failed' });
  });

  it('treats a plain "OK" answer as nothing started', async () => {
    const w = world({ 101: { answer: 'OK' } });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]?.outcome).toBe('failed');
    expect(r.guests[0]?.error).toMatch(/started nothing/);
  });

  it('reports a delete failure as a warning; the guest stays saved', async () => {
    const w = world({ 101: { deleteFails: true } });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]).toMatchObject({ outcome: 'saved', nodeCopy: 'kept' });
    expect(r.guests[0]?.warnings.join()).toMatch(/could not be deleted/);
  });

  it("starts the next guest while PVE's delete task runs, and reports each node copy once its task ended", async () => {
    const w = world({ 101: { deleteTask: {} }, 102: { deleteTask: { error: 'storage busy' } } });
    const r = await runNode(plan([101, 102, 103]), settings, ctx(w));
    const at = (e: string) => w.events.findIndex((x) => x.startsWith(e));
    // Guest 102's vzdump did not wait for 101's delete task to be followed to its end.
    expect(at('vzdump 102 ')).toBeLessThan(at('imgdel 101 ended'));
    // Every delete task is followed to its end before the run writes its last manifest.
    expect(at('imgdel 102 ended')).toBeLessThan(at('finish rotate=true'));
    expect(r.guests.map((g) => [g.vmid, g.outcome, g.nodeCopy])).toEqual([
      [101, 'saved', 'deleted'],
      [102, 'saved', 'kept'],
      [103, 'saved', 'deleted'],
    ]);
    expect(r.guests[1]?.warnings.join()).toMatch(/could not be deleted: storage busy/);
    expect(w.storage.map((v) => v.vmid)).toEqual([102]);
  });

  it('keeps the node copy of a verified guest when the NAS cannot record it as saved', async () => {
    const w = world({}, { finishFails: true });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests[0]).toMatchObject({ outcome: 'saved', nodeCopy: 'kept' });
    expect(r.guests[0]?.warnings.join()).toMatch(/kept: the NAS copy could not be recorded/);
    expect(w.events.some((e) => e.startsWith('delete'))).toBe(false);
    expect(w.storage).toHaveLength(1);
  });

  it('reports archives earlier runs left on the staging storage, and keeps them', async () => {
    const w = world({ 101: {} });
    const stray = { volid: 'st:backup/vzdump-lxc-105-2026_11_29-02_00_01.tar.zst', size: 1234 };
    w.storage.push(stray);
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.guests.map((g) => [g.vmid, g.outcome])).toEqual([[101, 'saved']]);
    expect(r.warnings).toEqual([
      expect.stringContaining(
        '1 archive(s) (1234 bytes) from earlier runs are still on staging storage st',
      ),
    ]);
    expect(r.warnings[0]).toContain('vzdump-lxc-105-2026_11_29-02_00_01.tar.zst');
    expect(w.storage).toEqual([stray]);
  });

  it('skips a node whose lock is held, naming the holder, without any vzdump', async () => {
    const w = world({}, { lockHeld: true });
    const r = await runNode(plan([101]), settings, ctx(w));
    expect(r.status).toBe('locked');
    expect(r.lockHolder).toEqual({
      runId: 'r0',
      host: 'other',
      pid: 42,
      startedAt: '2026-12-01T02:00:00Z',
    });
    expect(r.guests[0]?.outcome).toBe('not-started');
    expect(w.events).toEqual(['lock', 'close']);
  });

  it('starts no new guest after the interrupt, lets the running one finish, still writes the manifest and releases the lock', async () => {
    const w = world({});
    const ac = new AbortController();
    const orig = w.api.deleteVolume;
    w.api.deleteVolume = async (...args) => {
      ac.abort();
      return orig(...args);
    };
    const r = await runNode(plan([101, 102, 103]), settings, ctx(w, ac.signal));
    expect(r.guests.map((g) => g.outcome)).toEqual(['saved', 'not-started', 'not-started']);
    expect(w.events.filter((e) => e.startsWith('vzdump'))).toHaveLength(1);
    expect(w.events.slice(-3)).toEqual(['finish rotate=true', 'release', 'close']);
    expect(w.manifests[0]?.manifest.guests.map((g) => g.vmid)).toEqual([101]);
  });

  it('passes --no-rotate through and releases the lock when the rotation fails', async () => {
    const w = world({}, { finishFails: true });
    const r = await runNode(plan([101]), { ...settings, rotate: false }, ctx(w));
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/rotation failed: 451/);
    expect(r.guests[0]?.outcome).toBe('saved');
    expect(w.events.slice(-3)).toEqual(['finish rotate=false', 'release', 'close']);
  });

  it('does nothing for an offline node or one with no guests', async () => {
    const w = world({});
    expect((await runNode(plan([101], { online: false }), settings, ctx(w))).status).toBe(
      'offline',
    );
    expect((await runNode(plan([]), settings, ctx(w))).status).toBe('nothing-to-do');
    expect(w.events).toEqual([]);
  });

  it('reports an unreachable NAS as a node error with every guest not started', async () => {
    const w = world({});
    const c = {
      ...ctx(w),
      openNas: async () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:21')),
    };
    const r = await runNode(plan([101, 102]), settings, c);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/NAS not reachable/);
    expect(r.guests.map((g) => g.outcome)).toEqual(['not-started', 'not-started']);
  });
});
