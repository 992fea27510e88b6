/** Builders for node trees used by the rotation tests. */
import type { Manifest } from '../../../../src/ftp/manifest.js';
import { serializeManifest } from '../../../../src/ftp/manifest.js';
import type { MemoryFs } from '../../../support/memoryFs.js';

export const NODE_DIR = '/dump/pve1';

export interface GuestSpec {
  vmid: number;
  status: 'saved' | 'failed';
}

/** A valid manifest for a run; saved guests list one archive named after the run. */
export function manifestFor(runId: string, guests: GuestSpec[]): Manifest {
  return {
    version: 1,
    runId,
    node: 'pve1',
    cluster: 'home',
    pveVersion: '8.2.4',
    startedAt: '2026-11-30T02:00:00Z',
    finishedAt: '2026-11-30T02:30:00Z',
    guests: guests.map((g) => ({
      vmid: g.vmid,
      type: 'lxc',
      name: `ct${g.vmid}`,
      status: g.status,
      ...(g.status === 'failed' ? { error: 'vzdump failed' } : {}),
      files: g.status === 'saved' ? [{ name: archiveName(runId, g.vmid), size: 10 }] : [],
    })),
  };
}

/** Archive file name of a guest in a run (its content is `${runId}/${vmid}`, unique per copy). */
export function archiveName(runId: string, vmid: number): string {
  return `vzdump-lxc-${vmid}-${runId}.tar.zst`;
}

/** Upload what a run's hook would have uploaded into `dir` (archives of saved guests, all logs). */
export function seedUploads(fs: MemoryFs, dir: string, runId: string, guests: GuestSpec[]): void {
  fs.seedDir(dir);
  for (const g of guests) {
    if (g.status === 'saved')
      fs.seedFile(`${dir}/${archiveName(runId, g.vmid)}`, `${runId}/${g.vmid}`);
    fs.seedFile(`${dir}/vzdump-lxc-${g.vmid}-${runId}.log`, `log ${runId}/${g.vmid}`);
  }
}

/** A generation directory: uploads plus a manifest that is valid, missing or garbage. */
export function seedGeneration(
  fs: MemoryFs,
  dir: string,
  runId: string,
  guests: GuestSpec[],
  manifest: 'valid' | 'none' | 'bad' = 'valid',
): void {
  seedUploads(fs, dir, runId, guests);
  if (manifest === 'valid')
    fs.seedFile(`${dir}/manifest.json`, serializeManifest(manifestFor(runId, guests)));
  if (manifest === 'bad') fs.seedFile(`${dir}/manifest.json`, '{"version": 2, "truncated');
}

/** Top-level names in the node directory, sorted. */
export function topNames(fs: MemoryFs, nodeDir = NODE_DIR): string[] {
  return Object.keys(fs.snapshot(nodeDir))
    .filter((p) => !p.includes('/'))
    .sort();
}

/** Run id recorded in a generation's manifest (undefined when none/unreadable). */
export function runIdOf(fs: MemoryFs, dir: string): string | undefined {
  const text = fs.snapshot(dir)['manifest.json'];
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}
