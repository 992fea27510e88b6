/**
 * POST /nodes/{node}/vzdump (docs/pve-facts.md#vzdump): validate against the flavour's
 * schema, sort local and foreign vmids, start the worker task and answer its
 * UPID — or `"OK"` when (≥ 6.0) nothing is local.
 */
import { ApiError } from './envelope.js';
import type { Route, RouteContext } from './router.js';
import { runVzdumpJob } from './vzdumpJob.js';
import { isTrue, parseVmidList, validateVzdump } from './vzdumpSchema.js';

function startVzdump(ctx: RouteContext) {
  const { state } = ctx;
  const { flavour } = state;
  const node = ctx.node!;
  const params = validateVzdump(flavour, node.name, ctx.args, ctx.auth.user);
  const hostile = state.options.hostile?.vzdumpAnswer;
  if (hostile !== undefined) return { data: hostile };
  const storage = params.storage ?? 'local';
  if (!flavour.jobInit) {
    // Up to PM 4.2, new() ran before the fork: storage errors fail the POST itself.
    const s = node.storages.find((x) => x.id === storage);
    if (!s) throw new ApiError(500, `storage '${storage}' does not exist`);
    if (!s.backup) throw new ApiError(500, `storage '${storage}' does not support backups`);
  }
  let vmids = parseVmidList(params.vmid);
  // exclude implies all (verify_vzdump_parameters).
  if (isTrue(params.all) || params.exclude !== undefined) {
    const excluded = new Set(parseVmidList(params.exclude));
    vmids = node.guests.filter((g) => state.visible(g) && !excluded.has(g.vmid)).map((g) => g.vmid);
  }
  const local = new Set(node.guests.filter((g) => state.visible(g)).map((g) => g.vmid));
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const skipped = flavour.skipForeignVmids ? sorted(vmids.filter((v) => !local.has(v))) : [];
  if (flavour.skipForeignVmids) vmids = vmids.filter((v) => local.has(v));
  vmids = sorted(vmids);
  if (vmids.length === 0 && (flavour.skipForeignVmids || isTrue(params.stop)))
    return { data: 'OK' };
  const id = flavour.upidIdSingleGuest && vmids.length === 1 ? String(vmids[0]) : '';
  const task = state.tasks.create(node.name, 'vzdump', id, ctx.auth.user, vmids);
  runVzdumpJob(state, task, { node, params, vmids, skipped, storage });
  return { data: task.upid };
}

/** The vzdump route. */
export function vzdumpRoutes(): Route[] {
  return [{ method: 'POST', pattern: /^\/nodes\/[^/]+\/vzdump$/, handler: startVzdump }];
}
