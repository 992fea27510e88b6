/**
 * The NAS side of `doctor`: can we log in, can we write a node's tree (a probe
 * file of our own name is written and removed at once), and is a node's lock
 * held (reported with holder and age, never taken, renewed or removed: only
 * listed and read). Nothing else on the NAS is touched; generations are not
 * even listed.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FtpConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { joinRemote, LOCK_HOLDER_NAME, nodeLayout } from '../ftp/layout.js';
import { type NasSession, openNasSession } from '../ftp/session.js';
import type { Logger } from '../log.js';
import { lockCheck, type SeenLock } from './checks.js';
import { type CheckGroup, type CheckLine, fail, ok, warn } from './types.js';

/** The probe's name: ours alone, so a leftover (a killed doctor) can be recognised and removed. */
export const PROBE_PREFIX = '.doctor-probe-';

export interface NasCheckOptions {
  logger: Logger;
  signal?: AbortSignal;
  leaseSeconds: number;
  openSession?: (ftp: FtpConfig, logger: Logger, signal?: AbortSignal) => Promise<NasSession>;
}

export interface NasChecks {
  groups: CheckGroup[];
  reachable: boolean;
}

const Holder = z.object({
  runId: z.string(),
  host: z.string(),
  pid: z.number(),
  startedAt: z.string(),
});

/** `host:port` as the report names the NAS. */
export const nasName = (ftp: FtpConfig): string => `${ftp.host}:${ftp.port}`;

/** Checks the NAS for `nodes` (their trees under ftp.dir). */
export async function checkNas(
  ftp: FtpConfig,
  nodes: string[],
  o: NasCheckOptions,
): Promise<NasChecks> {
  const name = nasName(ftp);
  const whole: CheckGroup = { kind: 'nas', name, node: '', lines: [] };
  let session: NasSession;
  try {
    session = await (o.openSession ?? openNasSession)(ftp, o.logger, o.signal);
  } catch (error) {
    whole.lines.push(
      fail(
        'nas.reachable',
        `cannot log in to the NAS: ${errorMessage(error)}`,
        'check ftp.host, ftp.port, ftp.user and the password, and that the FTP server runs',
      ),
    );
    return { groups: [whole], reachable: false };
  }
  try {
    whole.lines.push(ok('nas.reachable', `logged in as ${ftp.user}${ftp.secure ? ' (FTPS)' : ''}`));
    if ((await session.list(ftp.dir)) === undefined) {
      // The first run creates it (mkdir -p); the probe then goes to the deepest existing parent.
      whole.lines.push(
        warn('nas.dir', `${ftp.dir} does not exist on the NAS yet`, 'the first run creates it'),
      );
    } else whole.lines.push(ok('nas.dir', `${ftp.dir} exists`));
    const groups = [whole];
    for (const node of nodes) {
      const group: CheckGroup = { kind: 'nas', name, node, lines: [] };
      groups.push(group);
      try {
        await checkNodeTree(session, ftp, node, group.lines, o.leaseSeconds);
      } catch (error) {
        group.lines.push(
          fail(
            'nas.node',
            `cannot check ${node}'s tree: ${errorMessage(error)}`,
            'see the message',
          ),
        );
      }
    }
    return { groups, reachable: true };
  } finally {
    session.close();
  }
}

async function checkNodeTree(
  session: NasSession,
  ftp: FtpConfig,
  node: string,
  lines: CheckLine[],
  leaseSeconds: number,
): Promise<void> {
  const layout = nodeLayout(ftp.dir, node);
  // The node's tree, or before the first run made it the deepest parent that exists
  // (run creates the rest; doctor makes no directory).
  const where = await deepestExisting(session, layout.nodeDir);
  const probe = joinRemote(where, `${PROBE_PREFIX}${randomUUID()}`);
  let nasNow: Date | undefined;
  try {
    await session.writeText(probe, 'pve-ftp-backup doctor probe: safe to delete\n');
    nasNow = await session.modifiedAt(probe);
  } catch (error) {
    lines.push(
      fail(
        'nas.writable',
        `cannot write a file in ${where}: ${errorMessage(error)}`,
        `give ${ftp.user} write permission on ${where} (and check the NAS is not full)`,
      ),
    );
    await session.removeFile(probe).catch(() => {});
    return;
  }
  try {
    await session.removeFile(probe);
  } catch (error) {
    lines.push(
      fail(
        'nas.writable',
        `wrote ${probe} but cannot remove it: ${errorMessage(error)}`,
        `give ${ftp.user} delete permission in ${where} (rotation removes generations), then delete the probe`,
      ),
    );
    return;
  }
  lines.push(
    ok(
      'nas.writable',
      `writable: probe file made and removed in ${where}${where !== layout.nodeDir ? ` (${layout.nodeDir} is made by the first run)` : ''}`,
    ),
  );

  const entries = await session.list(layout.lock);
  if (entries === undefined) {
    lines.push(lockCheck(layout.lock, undefined, leaseSeconds));
    return;
  }
  const seen: SeenLock = {};
  const text = await session
    .readText(joinRemote(layout.lock, LOCK_HOLDER_NAME))
    .catch(() => undefined);
  if (text !== undefined) {
    try {
      const parsed = Holder.safeParse(JSON.parse(text));
      if (parsed.success) seen.holder = parsed.data;
    } catch {
      // Not JSON: an unknown holder, reported as such.
    }
  }
  let newest: Date | undefined;
  for (const e of entries.filter((x) => x.type === 'file')) {
    const t = await session.modifiedAt(joinRemote(layout.lock, e.name)).catch(() => undefined);
    if (t && (!newest || t > newest)) newest = t;
  }
  if (newest && nasNow) seen.ageSeconds = Math.max(0, (nasNow.getTime() - newest.getTime()) / 1000);
  lines.push(lockCheck(layout.lock, seen, leaseSeconds));
}

/** `dir` if it exists, else its nearest existing parent (`/` at the latest). */
async function deepestExisting(session: NasSession, dir: string): Promise<string> {
  let at = dir;
  while (at !== '/' && (await session.list(at)) === undefined) {
    at = at.slice(0, at.lastIndexOf('/')) || '/';
  }
  return at;
}
