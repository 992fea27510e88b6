/**
 * Task endpoints (docs/pve-facts.md#tasks): list, status, log pages, stop.
 */
import { ApiError, paramError } from './envelope.js';
import { arg, intArg, type Route, type RouteContext } from './router.js';
import type { SimTask } from './tasks.js';
import { decodeUpid } from './upid.js';

function owner(task: SimTask): Record<string, string> {
  // Token-started tasks are split into user + tokenid (PM Tasks.pm).
  const [user, tokenid] = task.parts.user.split('!');
  return tokenid ? { user: user!, tokenid } : { user: user! };
}

function baseInfo(task: SimTask): Record<string, unknown> {
  const p = task.parts;
  return {
    upid: task.upid,
    node: p.node,
    pid: p.pid,
    pstart: p.pstart,
    starttime: p.starttime,
    type: p.type,
    id: p.id,
    ...owner(task),
  };
}

function findTask(ctx: RouteContext): SimTask {
  const upid = ctx.params[0] ?? '';
  const parts = decodeUpid(upid);
  if (!parts) throw new ApiError(500, `unable to parse worker upid '${upid}'`);
  const task = ctx.state.tasks.get(upid);
  if (!task || parts.node !== ctx.node!.name) throw paramError({ upid: 'no such task' });
  return task;
}

function listTasks(ctx: RouteContext) {
  const is34 = ctx.state.flavour.flavour === '3.4';
  if (is34) {
    for (const p of ['source', 'typefilter', 'since', 'until', 'statusfilter']) {
      if (ctx.args[p] !== undefined) {
        throw paramError({
          [p]: 'property is not defined in schema and the schema does not allow additional properties',
        });
      }
    }
  }
  // Before PM 5.3-9 (32388c41) there is no `source`: the list is the index file, finished tasks only.
  const source = arg(ctx, 'source') ?? 'archive';
  const vmid = arg(ctx, 'vmid');
  const typefilter = arg(ctx, 'typefilter');
  const errorsOnly = arg(ctx, 'errors') === '1';
  const start = intArg(ctx, 'start', 0);
  const limit = intArg(ctx, 'limit', 50);
  const rows = ctx.state.tasks
    .all()
    .filter((t) => t.parts.node === ctx.node!.name)
    .filter((t) => (source === 'active' ? t.running : source === 'archive' ? !t.running : true))
    .filter((t) => vmid === undefined || t.parts.id === vmid)
    .filter((t) => typefilter === undefined || t.parts.type === typefilter)
    .filter((t) => !errorsOnly || (!t.running && t.exitstatus !== 'OK'))
    .reverse()
    .map((t) => {
      const row = baseInfo(t);
      if (t.running) row.status = 'RUNNING';
      else {
        row.status = t.exitstatus;
        row.endtime = t.endtime;
      }
      return row;
    });
  return { data: rows.slice(start, start + limit), total: rows.length };
}

/**
 * GET /cluster/tasks: the task lists every node broadcasts (its running tasks,
 * without status, and its most recent finished ones), on every version.
 */
function clusterTasks(ctx: RouteContext) {
  const rows = ctx.state.tasks
    .all()
    .map((t) => {
      const row = baseInfo(t);
      if (!t.running) {
        row.status = t.exitstatus;
        row.endtime = t.endtime;
      }
      return row;
    })
    .reverse();
  return { data: rows };
}

/** Task routes. */
export function taskRoutes(): Route[] {
  return [
    { method: 'GET', pattern: /^\/cluster\/tasks$/, handler: clusterTasks },
    { method: 'GET', pattern: /^\/nodes\/[^/]+\/tasks$/, handler: listTasks },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/tasks\/([^/]+)\/status$/,
      handler: (ctx) => {
        const task = findTask(ctx);
        const data = baseInfo(task);
        data.status = task.running ? 'running' : 'stopped';
        if (!task.running) data.exitstatus = task.exitstatus;
        return { data };
      },
    },
    {
      method: 'GET',
      pattern: /^\/nodes\/[^/]+\/tasks\/([^/]+)\/log$/,
      handler: (ctx) => {
        const task = findTask(ctx);
        const start = intArg(ctx, 'start', 0);
        let limit = intArg(ctx, 'limit', 50);
        // limit=0 means "to the end" only from pve-common 7.3-1.
        if (limit === 0) limit = ctx.state.flavour.logLimitZeroAll ? Number.MAX_SAFE_INTEGER : 50;
        const lines = task.lines.length > 0 ? task.lines : ['no content'];
        const data = lines.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
        return { data, total: lines.length };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/nodes\/[^/]+\/tasks\/([^/]+)$/,
      handler: (ctx) => {
        const task = findTask(ctx);
        if (task.running) task.stop?.();
        return { data: null };
      },
    },
  ];
}
