/**
 * Restore endpoints (docs/pve-facts.md#restore): `POST /nodes/{node}/lxc`
 * (`restore=1`, `ostemplate=<storage>:backup/<file>`, PVE >= 4),
 * `/nodes/{node}/openvz` (PVE 3.x) and `/nodes/{node}/qemu` (`archive=`),
 * with the refusals PVE makes before it forks the worker (an HTTP error, no
 * task): an existing vmid without `force` (or on another node), a running or
 * locked guest, missing privileges (403). What passes starts a `vzrestore` /
 * `qmrestore` task whose id is the vmid (restoreJob.ts).
 */
import { privilegesOn } from './access.js';
import { parseArchiveName } from './archive.js';
import type { NodeState } from './cluster.js';
import { ApiError, paramError } from './envelope.js';
import { runRestoreJob } from './restoreJob.js';
import { arg, type Route, type RouteContext } from './router.js';
import type { GuestType, SimGuest } from './scenario.js';
import { isTrue } from './vzdumpSchema.js';

type Endpoint = 'lxc' | 'openvz' | 'qemu';

/** How the releases differ here (docs/pve-facts.md#restore). */
interface RestoreTraits {
  /** LXC/QEMU look for the vmid in the whole cluster; 3.x only at the local config file. */
  clusterWideExists: boolean;
  /** qemu-server >= 5.0-29: "running" is checked inside the worker (the task fails). */
  qemuRunningInWorker: boolean;
  /** pve-storage >= 7.1-2: Datastore.Allocate on the storage grants access to any backup on it. */
  allocateGrantsVolume: boolean;
}

function traits(ctx: RouteContext): RestoreTraits {
  const legacy = ctx.state.flavour.flavour === '3.4';
  return {
    clusterWideExists: !legacy,
    qemuRunningInWorker: !legacy,
    allocateGrantsVolume: !legacy,
  };
}

function forbidden(pathText: string, privs: string[]): ApiError {
  return new ApiError(403, `Permission check failed (${pathText}, ${privs.join(' | ')})`);
}

function parseVmid(ctx: RouteContext): number {
  const v = arg(ctx, 'vmid');
  if (v === undefined) throw paramError({ vmid: 'property is missing and it is not optional' });
  if (!/^\d+$/.test(v)) throw paramError({ vmid: `type check ('integer') failed - got '${v}'` });
  if (Number(v) < 100) throw paramError({ vmid: 'value must have a minimum value of 100' });
  if (Number(v) > 999_999_999) {
    throw paramError({ vmid: 'value may not exceed 999999999' });
  }
  return Number(v);
}

/** `storage:backup/file` of a backup on this node's storage, or a 400/500 like PVE's. */
function parseVolume(ctx: RouteContext, param: string): { storage: string; file: string } {
  const volid = arg(ctx, param);
  if (volid === undefined)
    throw paramError({ [param]: 'property is missing and it is not optional' });
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):backup\/([^/]+)$/i.exec(volid);
  if (!m || !parseArchiveName(m[2]!)) {
    throw new ApiError(500, `unable to parse volume ID '${volid}'`);
  }
  const storage = m[1]!;
  if (!ctx.node!.storages.some((s) => s.id === storage)) {
    throw new ApiError(500, `storage '${storage}' does not exist`);
  }
  return { storage, file: m[2]! };
}

/** The privilege checks of create_vm for a restore (docs/pve-facts.md#restore). */
function checkPrivileges(
  ctx: RouteContext,
  o: {
    vmid: number;
    volStorage: string;
    owner: number;
    force: boolean;
    existsHere: boolean;
    storage?: string;
  },
): void {
  const vmPath = `/vms/${o.vmid}`;
  const onVm = privilegesOn(ctx, vmPath);
  const viaBackup = onVm.has('VM.Backup') && o.force && o.existsHere;
  if (!onVm.has('VM.Allocate') && !viaBackup) throw forbidden(vmPath, ['VM.Allocate']);
  if (o.storage !== undefined) {
    const sp = `/storage/${o.storage}`;
    if (!privilegesOn(ctx, sp).has('Datastore.AllocateSpace')) {
      throw forbidden(sp, ['Datastore.AllocateSpace']);
    }
  }
  // check_volume_access: the backup's owner restoring onto itself needs nothing more.
  if (o.owner === o.vmid) return;
  const vp = `/storage/${o.volStorage}`;
  const onVol = privilegesOn(ctx, vp);
  if (traits(ctx).allocateGrantsVolume && onVol.has('Datastore.Allocate')) return;
  if (!onVol.has('Datastore.AllocateSpace')) throw forbidden(vp, ['Datastore.AllocateSpace']);
  const ownerPath = `/vms/${o.owner}`;
  if (!privilegesOn(ctx, ownerPath).has('VM.Backup')) throw forbidden(ownerPath, ['VM.Backup']);
}

/** Where `vmid` lives now, any type the flavour knows; 3.x looks only at this node. */
function existing(
  ctx: RouteContext,
  vmid: number,
  node: NodeState,
): { node: NodeState; guest: SimGuest } | undefined {
  if (traits(ctx).clusterWideExists) return ctx.state.findGuest(vmid);
  const guest = node.guests.find((g) => g.vmid === vmid && ctx.state.visible(g));
  return guest ? { node, guest } : undefined;
}

function startRestore(endpoint: Endpoint) {
  return (ctx: RouteContext) => {
    const node = ctx.node!;
    const isQemu = endpoint === 'qemu';
    const param = isQemu ? 'archive' : 'ostemplate';
    if (!isQemu && !isTrue(arg(ctx, 'restore'))) {
      throw new ApiError(501, 'creating a container from a template is not simulated');
    }
    if (isQemu && arg(ctx, param) === undefined) {
      throw new ApiError(501, 'creating a VM without an archive is not simulated');
    }
    const vmid = parseVmid(ctx);
    const force = isTrue(arg(ctx, 'force'));
    const volume = parseVolume(ctx, param);
    const info = parseArchiveName(volume.file)!;
    // LXC and OpenVZ default to `local` for the root dir; QEMU follows the backup's own map.
    const storage = arg(ctx, 'storage') ?? (isQemu ? undefined : 'local');
    if (storage !== undefined && !node.storages.some((s) => s.id === storage)) {
      throw new ApiError(500, `storage '${storage}' does not exist`);
    }
    const found = existing(ctx, vmid, node);
    const existsHere = found?.node === node;
    checkPrivileges(ctx, {
      vmid,
      volStorage: volume.storage,
      owner: info.vmid,
      force,
      existsHere,
      ...(storage !== undefined ? { storage } : {}),
    });
    const word = (t: GuestType) => (t === 'qemu' ? 'VM' : 'CT');
    if (found && !(existsHere && force)) {
      throw new ApiError(
        500,
        ctx.state.flavour.flavour === '3.4' && !isQemu
          ? `CT ${vmid} already exists`
          : `${word(found.guest.type)} ${vmid} already exists on node '${found.node.name}'`,
      );
    }
    const previous = found?.guest;
    if (previous) {
      if (previous.lock) {
        throw new ApiError(500, `${word(previous.type)} is locked (${previous.lock})`);
      }
      if (previous.type !== (endpoint === 'openvz' ? 'openvz' : endpoint)) {
        throw new ApiError(
          500,
          `unable to restore ${word(previous.type)} ${vmid} - it is a ${previous.type} guest`,
        );
      }
      if (previous.status !== 'stopped' && !(isQemu && traits(ctx).qemuRunningInWorker)) {
        throw new ApiError(
          500,
          endpoint === 'openvz'
            ? 'cant overwrite mounted container'
            : isQemu
              ? `unable to restore vm ${vmid} - vm is running`
              : "can't overwrite running container",
        );
      }
    }
    const taskType = isQemu ? 'qmrestore' : 'vzrestore';
    const task = ctx.state.tasks.create(node.name, taskType, String(vmid), ctx.auth.user);
    const type: GuestType = isQemu ? 'qemu' : endpoint;
    runRestoreJob(ctx.state, task, {
      node,
      type,
      vmid,
      volid: `${volume.storage}:backup/${volume.file}`,
      file: volume.file,
      ...(storage !== undefined ? { storage } : {}),
      ...(previous ? { previous } : {}),
      recheckRunning: isQemu && traits(ctx).qemuRunningInWorker,
    });
    return { data: task.upid };
  };
}

/** The restore routes: `/lxc` from 4.0, `/openvz` on 3.x, `/qemu` on all. */
export function restoreRoutes(): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/nodes\/[^/]+\/lxc$/,
      handler: startRestore('lxc'),
      when: (c) => c.state.flavour.containerType === 'lxc',
    },
    {
      method: 'POST',
      pattern: /^\/nodes\/[^/]+\/openvz$/,
      handler: startRestore('openvz'),
      when: (c) => c.state.flavour.containerType === 'openvz',
    },
    { method: 'POST', pattern: /^\/nodes\/[^/]+\/qemu$/, handler: startRestore('qemu') },
  ];
}
