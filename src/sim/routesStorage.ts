/**
 * Storage content (docs/pve-facts.md#storage): list the backups in the node's dump dir with
 * the fields of the flavour, and delete a backup volume (≥ 6.0 through an
 * `imgdel` task that also removes the `.log`; 3.x synchronously, `.log` left).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { parseArchiveName } from './archive.js';
import type { NodeState } from './cluster.js';
import { ApiError } from './envelope.js';
import { arg, type Route, type RouteContext } from './router.js';

function storageOf(ctx: RouteContext): { node: NodeState; id: string } {
  const id = ctx.params[0]!;
  const node = ctx.node!;
  if (!node.storages.some((s) => s.id === id))
    throw new ApiError(500, `storage '${id}' does not exist`);
  return { node, id };
}

/** ctime parsed from the archive name in node-local time, like pve-storage. */
function ctimeOf(timestamp: string): number {
  const [d, t] = timestamp.split('-');
  const [Y, M, D] = d!.split('_').map(Number);
  const [h, m, s] = t!.split('_').map(Number);
  return Math.floor(new Date(Y!, M! - 1, D!, h!, m!, s!).getTime() / 1000);
}

async function listContent(ctx: RouteContext) {
  const { node, id } = storageOf(ctx);
  const content = arg(ctx, 'content');
  const vmidArg = arg(ctx, 'vmid');
  const { flavour } = ctx.state;
  if (content !== undefined && content !== 'backup') return { data: [] };
  // 3.x: a vmid switches the handler to the disk-image list (none simulated).
  if (vmidArg !== undefined && flavour.contentVmidMeansImages) return { data: [] };
  const storage = node.storages.find((s) => s.id === id)!;
  if (!storage.backup) return { data: [] };
  let files: string[] = [];
  try {
    files = await readdir(node.dumpDir);
  } catch {
    files = [];
  }
  const rows: Record<string, unknown>[] = [];
  for (const file of files.sort()) {
    const info = parseArchiveName(file);
    if (!info) continue;
    if (vmidArg !== undefined && String(info.vmid) !== vmidArg) continue;
    const st = await stat(path.join(node.dumpDir, file)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const row: Record<string, unknown> = {
      volid: `${id}:backup/${file}`,
      format: info.format,
      size: st.size,
      content: 'backup',
    };
    if (flavour.contentDetails) {
      row.ctime = ctimeOf(info.timestamp);
      row.vmid = info.vmid;
      row.subtype = info.type;
    }
    rows.push(row);
  }
  rows.push(...(ctx.state.options.hostile?.volumeRows?.[node.name] ?? []));
  return { data: rows };
}

function volumeFile(ctx: RouteContext, storageId: string): string {
  const raw = ctx.params[1]!;
  const volid = raw.includes(':') ? raw : `${storageId}:${raw}`;
  const m = /^([^:]+):backup\/([^/]+)$/.exec(volid);
  if (!m || m[1] !== storageId || !parseArchiveName(m[2]!)) {
    throw new ApiError(500, `unable to parse volume ID '${volid}'`);
  }
  return m[2]!;
}

async function deleteVolume(ctx: RouteContext) {
  const { node, id } = storageOf(ctx);
  const file = volumeFile(ctx, id);
  const info = parseArchiveName(file)!;
  const archive = path.join(node.dumpDir, file);
  const companions = [`${file}.notes`, `${file}.protected`];
  if (!ctx.state.flavour.asyncVolumeDelete) {
    // 3.x: synchronous; the .log stays behind.
    await rm(archive, { force: true });
    for (const c of companions) await rm(path.join(node.dumpDir, c), { force: true });
    return { data: null };
  }
  const task = ctx.state.tasks.create(node.name, 'imgdel', '', ctx.auth.user);
  setImmediate(async () => {
    try {
      const existed = await stat(archive).then(
        () => true,
        () => false,
      );
      await rm(archive, { force: true });
      for (const c of [...companions, `${info.basename}.log`]) {
        await rm(path.join(node.dumpDir, c), { force: true });
      }
      if (!existed) task.lines.push(`WARN: disk image '${archive}' does not exist`);
      ctx.state.tasks.finish(task, { ok: true, warnings: existed ? 0 : 1 });
    } catch (err) {
      ctx.state.tasks.finish(task, {
        ok: false,
        error: errorMessage(err),
      });
    }
  });
  return { data: task.upid };
}

/** Storage routes. */
export function storageRoutes(): Route[] {
  return [
    { method: 'GET', pattern: /^\/nodes\/[^/]+\/storage\/([^/]+)\/content$/, handler: listContent },
    {
      method: 'DELETE',
      pattern: /^\/nodes\/[^/]+\/storage\/([^/]+)\/content\/(.+)$/,
      handler: deleteVolume,
    },
  ];
}
