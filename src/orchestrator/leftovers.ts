/**
 * Archives an earlier run left on the staging storage (a killed run, SIGTERM,
 * a lost answer). The node disk was meant to hold one archive at a time, so at
 * node start, under the lock and after healing: when the NAS holds a file of
 * the same name and size (in transfer/ or a generation), that copy is recorded
 * in a manifest and only then is the node copy deleted; otherwise the node copy
 * is kept and reported (DESIGN: "Archives that an earlier run left").
 *
 * Where the record goes: a copy in transfer/ belongs to this run's transfer/,
 * so it joins this run's manifest (the caller's `recordInThisRun`). A copy in a
 * generation is recorded in that generation's own manifest, because that is
 * where the file lives: recording it in this run's manifest would name a file
 * that transfer/ (the future daily.0) does not hold, and would leave the
 * generation that does hold it looking as if it saved nothing, so retention
 * could remove the only copy.
 */
import { errorMessage } from '../errors.js';
import type { ManifestGuest } from '../ftp/manifest.js';
import type { Logger } from '../log.js';
import type { PveBackupVolume } from '../pveApi/index.js';
import { escapeForLog, parseBackupVolid } from '../pveApi/names.js';
import type { GuestType } from '../vocabulary.js';
import { deleteNodeCopy, type GuestRunContext } from './guestRunner.js';
import type { NodeApi, NodeNas } from './nodeNas.js';
import type { GuestResult } from './types.js';

/** The warning every guest record made from a leftover carries. */
export const LEFTOVER_WARNING = "saved from an earlier run's leftover";

/** `vzdump-<type>-<vmid>-<YYYY_MM_DD-HH_MM_SS>.<tar|vma|tgz>[.gz|.lzo|.zst|.bz2]` (fixtures/ names). */
const ARCHIVE_NAME =
  /^vzdump-(openvz|lxc|qemu)-([1-9]\d{2,8})-(\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d)\.(?:tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$/;

export interface LeftoverArchive {
  name: string;
  vmid: number;
  type: GuestType;
  /** The time in the name (node-local), as written: `YYYY_MM_DD-HH_MM_SS`. */
  time: string;
}

/** The guest and time a vzdump archive name carries, or undefined for anything else (companions, foreign files). */
export function parseArchiveFileName(name: string): LeftoverArchive | undefined {
  const m = ARCHIVE_NAME.exec(name);
  if (!m) return undefined;
  return { name, type: m[1] as GuestType, vmid: Number(m[2]), time: m[3] as string };
}

export interface LeftoverContext {
  node: string;
  storage: string;
  api: NodeApi;
  nas: NodeNas;
  logger: Logger;
  /** Guest names by vmid, from the plan (the archive name does not carry it). */
  names: ReadonlyMap<number, string>;
  /** Write this run's manifest (transfer/) with these extra saved guests. */
  recordInThisRun: (saved: GuestResult[]) => Promise<void>;
  watch?: GuestRunContext['watch'];
  now?: () => number;
}

export interface LeftoverOutcome {
  /** Guests saved from a copy in transfer/: the caller adds them to this run's result and manifest. */
  saved: GuestResult[];
  /** One line per leftover dealt with or kept, for the node's report. */
  warnings: string[];
}

/** Settle what earlier runs left on the staging storage; never throws for an operational problem. */
export async function settleLeftovers(ctx: LeftoverContext): Promise<LeftoverOutcome> {
  const { node, storage, logger: log } = ctx;
  const out: LeftoverOutcome = { saved: [], warnings: [] };
  let volumes: PveBackupVolume[];
  try {
    volumes = await ctx.api.backupContent(node, storage);
  } catch (error) {
    // The guest runner lists the storage again and reports what matters there.
    log.debug('could not list the staging storage at node start', { error: errorMessage(error) });
    return out;
  }
  const kept: string[] = [];
  let keptBytes = 0;
  const keep = (volume: PveBackupVolume, shown: string) => {
    kept.push(shown);
    keptBytes += volume.size;
  };
  const inTransfer: { volume: PveBackupVolume; record: GuestResult }[] = [];
  for (const volume of volumes) {
    const file = parseBackupVolid(volume.volid)?.file;
    const archive = file ? parseArchiveFileName(file) : undefined;
    if (!archive) {
      keep(volume, escapeForLog(file ?? volume.volid));
      continue;
    }
    let where: string | undefined;
    try {
      where = await ctx.nas.findCopy?.(archive.name, volume.size);
    } catch (error) {
      log.warn(`could not look for a NAS copy of ${archive.name}`, { error: errorMessage(error) });
    }
    if (where === undefined) {
      keep(volume, archive.name);
      continue;
    }
    const record = savedRecord(ctx, archive, volume);
    if (where === 'transfer') {
      inTransfer.push({ volume, record });
      continue;
    }
    try {
      await ctx.nas.recordInGeneration?.(where, manifestGuest(record));
    } catch (error) {
      keep(
        volume,
        `${archive.name} (copy in ${where} could not be recorded: ${errorMessage(error)})`,
      );
      continue;
    }
    await deleteLeftover(ctx, record, volume);
    out.warnings.push(
      `leftover ${archive.name}: NAS copy in ${where} (same size) recorded there; node copy ${record.nodeCopy}`,
    );
  }
  if (inTransfer.length > 0) {
    const records = inTransfer.map((t) => t.record);
    let recorded = true;
    try {
      // Recorded as saved in transfer/'s manifest before any node copy goes.
      await ctx.recordInThisRun(records);
    } catch (error) {
      recorded = false;
      for (const { volume, record } of inTransfer) {
        keep(volume, `${record.archive?.name} (could not be recorded: ${errorMessage(error)})`);
      }
    }
    if (recorded) {
      for (const { volume, record } of inTransfer) await deleteLeftover(ctx, record, volume);
      out.saved.push(...records);
    }
  }
  if (kept.length > 0) {
    const warning = `${kept.length} archive(s) (${keptBytes} bytes) from earlier runs are still on staging storage ${storage}, kept because the NAS holds no copy of the same name and size: ${kept.join(', ')}`;
    out.warnings.push(warning);
    log.warn(warning);
  }
  return out;
}

function savedRecord(
  ctx: LeftoverContext,
  archive: LeftoverArchive,
  volume: PveBackupVolume,
): GuestResult {
  const name = ctx.names.get(archive.vmid);
  return {
    vmid: archive.vmid,
    type: archive.type,
    ...(name !== undefined ? { name } : {}),
    outcome: 'saved',
    warnings: [LEFTOVER_WARNING],
    archive: { name: archive.name, size: volume.size, volid: volume.volid },
    files: [{ name: archive.name, size: volume.size }],
    nodeCopy: 'kept',
  };
}

function manifestGuest(r: GuestResult): ManifestGuest {
  return {
    vmid: r.vmid,
    type: r.type,
    name: r.name ?? '',
    status: 'saved',
    warnings: r.warnings,
    files: r.files.map((f) => ({ name: f.name, size: f.size ?? 0 })),
  };
}

/** Through the API exactly like a guest's own node copy (imgdel task followed when PVE starts one). */
async function deleteLeftover(
  ctx: LeftoverContext,
  record: GuestResult,
  volume: PveBackupVolume,
): Promise<void> {
  await deleteNodeCopy(
    {
      job: {
        node: ctx.node,
        vmid: record.vmid,
        type: record.type,
        storage: ctx.storage,
        // Not used by the delete; a GuestJob needs them.
        mode: 'snapshot',
        compress: 'zstd',
      },
      ctx: {
        api: ctx.api,
        nas: ctx.nas,
        logger: ctx.logger,
        ...(ctx.watch ? { watch: ctx.watch } : {}),
        ...(ctx.now ? { now: ctx.now } : {}),
      },
      log: ctx.logger,
      result: record,
    },
    volume,
  );
  ctx.logger.info(`leftover ${record.archive?.name}: node copy ${record.nodeCopy}`);
}
