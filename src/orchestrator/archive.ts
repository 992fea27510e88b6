/**
 * Finding the archive a vzdump task wrote (pure). Primary source: the
 * `creating [vzdump ]archive '<path>'` log line, which names exactly this
 * task's file; fallback: what appeared in the storage's backup listing between
 * before and after the task. Either way the size comes from the listing —
 * `archive file size` in the log is rounded and must not be used to verify.
 */
import type { GuestType, PveBackupVolume } from '../pveApi/index.js';

const CREATING = /creating (?:vzdump )?archive '([^']+)'/;
const VZDUMP_NAME =
  /^(vzdump-(?:openvz|lxc|qemu)-\d+-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d)\.[A-Za-z0-9.]+$/;

/** File name of the archive the task log says it is creating; undefined when absent. */
export function archiveNameFromLog(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = CREATING.exec(line);
    if (m?.[1]) {
      const name = baseName(m[1]);
      // A `.dat` is the temporary name vzdump renames at the end.
      return name.endsWith('.dat') ? undefined : name;
    }
  }
  return undefined;
}

/** `ftp-staging:backup/vzdump-lxc-101-….tar.zst` → `vzdump-lxc-101-….tar.zst`. */
export function volumeFileName(volid: string): string {
  const afterStorage = volid.slice(volid.indexOf(':') + 1);
  return baseName(afterStorage);
}

/** The companion log vzdump writes beside an archive (`<basename>.log`), or undefined for a foreign name. */
export function logNameFor(archiveName: string): string | undefined {
  const m = VZDUMP_NAME.exec(archiveName);
  return m?.[1] ? `${m[1]}.log` : undefined;
}

/** Whether a file name is a vzdump archive of this guest (not its .log/.notes companions). */
export function isArchiveOf(name: string, vmid: number, type: GuestType): boolean {
  return (
    name.startsWith(`vzdump-${type}-${vmid}-`) &&
    VZDUMP_NAME.test(name) &&
    !/\.(log|notes|protected|dat|tmp)$/.test(name)
  );
}

/**
 * The archive this task produced: the volume named by the log line when
 * listed, else the single new archive of the guest that was not listed before.
 * Several new archives of the guest (someone else backed it up meanwhile) is
 * ambiguous: undefined rather than a guess, so nothing wrong is deleted.
 */
export function findNewArchive(
  o: { vmid: number; type: GuestType; logName?: string },
  before: readonly PveBackupVolume[] | undefined,
  after: readonly PveBackupVolume[],
): PveBackupVolume | undefined {
  if (o.logName) {
    const byName = after.find((v) => volumeFileName(v.volid) === o.logName);
    if (byName) return byName;
  }
  if (!before) return undefined;
  const old = new Set(before.map((v) => v.volid));
  const fresh = after.filter(
    (v) => !old.has(v.volid) && isArchiveOf(volumeFileName(v.volid), o.vmid, o.type),
  );
  return fresh.length === 1 ? fresh[0] : undefined;
}

function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
