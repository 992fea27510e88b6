import { describe, expect, it } from 'vitest';
import type { ManifestGuest } from '../../../src/ftp/manifest.js';
import { silentLogger } from '../../../src/log.js';
import {
  LEFTOVER_WARNING,
  parseArchiveFileName,
  settleLeftovers,
} from '../../../src/orchestrator/leftovers.js';
import type { NodeApi, NodeNas } from '../../../src/orchestrator/nodeNas.js';
import type { GuestResult } from '../../../src/orchestrator/types.js';
import type { PveBackupVolume } from '../../../src/pveApi/index.js';

const A = 'vzdump-lxc-101-2026_11_29-02_00_01.tar.zst';
const B = 'vzdump-qemu-200-2026_11_29-02_10_00.vma.zst';
const C = 'vzdump-openvz-105-2015_03_01-01_00_02.tgz';

/** A staging storage and an NAS tree of fakes; `events` keeps the order of what happened. */
function world(o: {
  staging: PveBackupVolume[];
  nas: Record<string, Record<string, number>>;
  recordFails?: boolean;
}) {
  const events: string[] = [];
  const storage = [...o.staging];
  const api = {
    backupContent: async () => storage.map((v) => ({ ...v })),
    deleteVolume: async (_n: string, _s: string, volid: string) => {
      events.push(`delete ${volid}`);
      storage.splice(
        storage.findIndex((v) => v.volid === volid),
        1,
      );
      return {};
    },
  } as unknown as NodeApi;
  const recorded: Record<string, ManifestGuest[]> = {};
  const nas = {
    findCopy: async (name: string, size: number) =>
      Object.keys(o.nas).find((dir) => o.nas[dir]?.[name] === size),
    recordInGeneration: async (gen: string, guest: ManifestGuest) => {
      if (o.recordFails) throw new Error('553 could not write');
      events.push(`record ${gen} ${guest.vmid}`);
      recorded[gen] = [...(recorded[gen] ?? []), guest];
    },
  } as unknown as NodeNas;
  const inThisRun: GuestResult[][] = [];
  const ctx = {
    node: 'pve1',
    storage: 'st',
    api,
    nas,
    logger: silentLogger(),
    names: new Map([[101, 'web']]),
    recordInThisRun: async (saved: GuestResult[]) => {
      events.push(`manifest ${saved.map((s) => s.vmid).join(',')}`);
      inThisRun.push(saved);
    },
  };
  return { ctx, events, storage, recorded, inThisRun };
}

describe('vzdump archive names', () => {
  it('gives guest type, vmid and time; anything else is not an archive', () => {
    expect(parseArchiveFileName(A)).toEqual({
      name: A,
      type: 'lxc',
      vmid: 101,
      time: '2026_11_29-02_00_01',
    });
    expect(parseArchiveFileName(B)?.vmid).toBe(200);
    expect(parseArchiveFileName(C)?.type).toBe('openvz');
    for (const bad of [
      'vzdump-lxc-101-2026_11_29-02_00_01.log',
      'vzdump-lxc-101-2026_11_29-02_00_01.tar.zst.notes',
      'vzdump-lxc-7-2026_11_29-02_00_01.tar',
      'vzdump-lxc-101-2026_11_29-02_00_01.tar.zst/../x',
      'notes.txt',
    ])
      expect(parseArchiveFileName(bad), bad).toBeUndefined();
  });
});

describe('settleLeftovers', () => {
  it('a copy in transfer/ joins this run manifest before its node copy is deleted', async () => {
    const w = world({
      staging: [{ volid: `st:backup/${A}`, size: 10 }],
      nas: { transfer: { [A]: 10 } },
    });
    const out = await settleLeftovers(w.ctx);
    expect(w.events).toEqual(['manifest 101', `delete st:backup/${A}`]);
    expect(out.saved).toEqual([
      expect.objectContaining({
        vmid: 101,
        name: 'web',
        outcome: 'saved',
        nodeCopy: 'deleted',
        warnings: [LEFTOVER_WARNING],
        files: [{ name: A, size: 10 }],
      }),
    ]);
    expect(out.warnings).toEqual([]);
    expect(w.storage).toEqual([]);
  });

  it('a copy in a generation is recorded in that generation before the delete; not in this run', async () => {
    const w = world({
      staging: [{ volid: `st:backup/${B}`, size: 20 }],
      nas: { 'daily.1': { [B]: 20 } },
    });
    const out = await settleLeftovers(w.ctx);
    expect(w.events).toEqual(['record daily.1 200', `delete st:backup/${B}`]);
    expect(w.recorded['daily.1']).toEqual([
      {
        vmid: 200,
        type: 'qemu',
        name: '',
        status: 'saved',
        warnings: [LEFTOVER_WARNING],
        files: [{ name: B, size: 20 }],
      },
    ]);
    expect(out.saved).toEqual([]);
    expect(out.warnings).toEqual([
      `leftover ${B}: NAS copy in daily.1 (same size) recorded there; node copy deleted`,
    ]);
  });

  it('keeps and reports what has no copy of the same size, foreign files, and what could not be recorded', async () => {
    const w = world({
      staging: [
        { volid: `st:backup/${A}`, size: 10 },
        { volid: `st:backup/${B}`, size: 20 },
        { volid: 'st:backup/something-else.tar', size: 5 },
      ],
      nas: { transfer: { [A]: 11 }, 'daily.0': { [B]: 20 } },
      recordFails: true,
    });
    const out = await settleLeftovers(w.ctx);
    expect(w.events).toEqual([]);
    expect(w.storage).toHaveLength(3);
    expect(out.saved).toEqual([]);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(
      /^3 archive\(s\) \(35 bytes\) from earlier runs are still on staging storage st/,
    );
    expect(out.warnings[0]).toContain(
      `${B} (copy in daily.0 could not be recorded: 553 could not write)`,
    );
    expect(out.warnings[0]).toContain('something-else.tar');
  });

  it('a NAS without the lookup (older test doubles) finds no copy: everything kept', async () => {
    const w = world({ staging: [{ volid: `st:backup/${A}`, size: 10 }], nas: {} });
    delete (w.ctx.nas as { findCopy?: unknown }).findCopy;
    const out = await settleLeftovers(w.ctx);
    expect(w.events).toEqual([]);
    expect(out.warnings[0]).toContain(A);
  });
});
