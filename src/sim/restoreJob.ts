/**
 * The worker of a simulated restore task (`vzrestore` / `qmrestore`,
 * docs/pve-facts.md#restore): reads the archive from the staging storage's
 * dump dir the way extraction would (all of it: a corrupt archive fails the
 * task with an ERROR line and `TASK ERROR: unable to restore …`), takes the
 * guest config stored in it, and on success leaves the guest in the cluster,
 * stopped, with that config. Log wording follows PVE's restore tasks.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { ClusterState, NodeState } from './cluster.js';
import { nameFromConfig, readBackArchive, readStoredConfig } from './restoreArchive.js';
import type { GuestType, SimGuest } from './scenario.js';
import type { SimTask } from './tasks.js';

export interface RestoreSpec {
  node: NodeState;
  /** The guest type being created (`lxc` also for an OpenVZ archive, which PVE converts). */
  type: GuestType;
  vmid: number;
  /** `storage:backup/file` as given. */
  volid: string;
  /** The archive file in the node's dump dir. */
  file: string;
  /** Where the disks go (LXC/OpenVZ default `local`; QEMU: the backup's own map). */
  storage?: string;
  /** The guest this restore overwrites (force), to put back when a container restore fails. */
  previous?: SimGuest;
  /** Checked again inside the worker for QEMU since qemu-server 5.0-29 (PVE 5.2). */
  recheckRunning: boolean;
}

const kindWord = (type: GuestType): string => (type === 'qemu' ? 'VM' : 'CT');

/** Decompression command as the task log shows it. */
function extractCommand(file: string, type: GuestType): string {
  const tool = file.endsWith('.zst')
    ? 'zstd -q -d -c'
    : file.endsWith('.lzo')
      ? 'lzop -d -c'
      : file.endsWith('.gz') || file.endsWith('.tgz')
        ? 'zcat'
        : 'cat';
  return type === 'qemu'
    ? `${tool} ${file} | vma extract -v -r /var/tmp/vzdumptmp.fifo - /var/tmp/vzdumptmp`
    : `tar xpf - --totals --one-file-system -p --sparse --numeric-owner --acls --xattrs --xattrs-include=user.* --xattrs-include=security.capability --warning=no-file-ignored --warning=no-xattr-write -C /var/lib/lxc/rootfs --skip-old-files --anchored --exclude ./dev/* < ${tool === 'cat' ? file : `<(${tool} ${file})`}`;
}

/** Starts the restore worker in the background; the task records its log and end. */
export function runRestoreJob(state: ClusterState, task: SimTask, spec: RestoreSpec): void {
  void restoreMain(state, task, spec).catch((err: unknown) => {
    state.tasks.finish(task, { ok: false, error: errorMessage(err) });
  });
}

async function restoreMain(state: ClusterState, task: SimTask, spec: RestoreSpec): Promise<void> {
  const { node, vmid, type } = spec;
  const log = (line: string): void => {
    task.lines.push(line);
  };
  const archive = path.join(node.dumpDir, spec.file);
  if (spec.recheckRunning && spec.previous?.status === 'running') {
    // The first thing the worker checks: the running VM is left as it was.
    await new Promise((r) => setTimeout(r, 50));
    state.tasks.finish(task, { ok: false, error: `unable to restore vm ${vmid} - vm is running` });
    return;
  }
  const placeholder: SimGuest = {
    vmid,
    type,
    status: 'stopped',
    archiveSize: spec.previous?.archiveSize ?? 0,
    lock: 'create',
  };
  // create_and_lock_config: the new config exists, locked, while the task runs.
  node.guests = node.guests.filter((g) => g.vmid !== vmid);
  node.guests.push(placeholder);
  const fail = (message: string): void => {
    if (type !== 'qemu') {
      // A failed container restore removes what it created (the old guest comes back on force).
      node.guests = node.guests.filter((g) => g !== placeholder);
      if (spec.previous) node.guests.push(spec.previous);
    }
    // qemu-server >= 6.3-11 leaves the failed VM's config (locked) behind.
    state.tasks.finish(task, { ok: false, error: message });
  };
  await new Promise((r) => setTimeout(r, 50));
  const size = await stat(archive).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) {
    fail(`unable to restore ${kindWord(type)} ${vmid} - can't find archive file '${archive}'`);
    return;
  }
  if (type === 'qemu') log(`restore vma archive: ${extractCommand(archive, type)}`);
  else {
    log(`recovering backed-up configuration from '${spec.volid}'`);
    log(`restoring '${spec.volid}' now..`);
    log(`extracting archive '${archive}'`);
  }
  const config = await readStoredConfig(archive);
  const problems = await readBackArchive(archive);
  if (config === undefined && problems.length === 0) {
    problems.push(
      type === 'qemu'
        ? 'no qemu-server.conf in the VMA header'
        : 'no ./etc/vzdump/pct.conf or ./etc/vzdump/vps.conf in the archive',
    );
  }
  if (problems.length > 0) {
    for (const p of problems) log(`ERROR: ${p}`);
    fail(
      `unable to restore ${kindWord(type)} ${vmid} - command '${extractCommand(archive, type)}' failed: exit code 2`,
    );
    return;
  }
  if (type === 'qemu') {
    log(`CFG: size: ${Buffer.byteLength(config ?? '')} name: qemu-server.conf`);
    log(`new volume ID is '${spec.storage ?? 'local-lvm'}:vm-${vmid}-disk-0'`);
    log(`total bytes read ${size}, sparse bytes 0 (0%)`);
  } else {
    log(`Total bytes read: ${size}`);
    log('merging backed-up config into newly allocated volumes...');
  }
  placeholder.name = nameFromConfig(config ?? '') ?? placeholder.name;
  placeholder.config = config;
  placeholder.archiveSize = size;
  delete placeholder.lock;
  state.tasks.finish(task, { ok: true });
}
