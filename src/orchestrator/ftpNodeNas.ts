/**
 * The real NodeNas: one FTP session per node run (basic-ftp allows one command
 * at a time per client, and the node runner is sequential), the node's layout,
 * lock, verify and rotation modules bound together. The session opener is a
 * parameter so tests can bind the same adapter to an in-memory NAS.
 */
import { hostname } from 'node:os';
import type { FtpConfig } from '../config/index.js';
import { DEFAULT_LOCK_LEASE_MS } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { joinRemote, nodeLayout, TEMP_SUFFIX, TRANSFER_NAME } from '../ftp/layout.js';
import { acquireLock } from '../ftp/lock.js';
import {
  MANIFEST_NAME,
  type ManifestGuest,
  parseManifest,
  serializeManifest,
} from '../ftp/manifest.js';
import type { RemoteFs } from '../ftp/remoteFs.js';
import { generationOrder, isGenerationName } from '../ftp/rotation/names.js';
import { finishNodeRun, prepareNodeTree, type RotationReport } from '../ftp/rotation/nodeTree.js';
import type { RetentionCounts } from '../ftp/rotation/plan.js';
import { type FtpSettings, type NasSession, openNasSession } from '../ftp/session.js';
import { verifyFiles } from '../ftp/verify.js';
import type { Logger } from '../log.js';
import { nasTimings } from './nasTimings.js';
import type { NodeNas, OpenNodeNas } from './nodeNas.js';
import type { NodeRotationSummary } from './types.js';

/** The report summary of what a rotation call did. */
export function rotationSummary(r: RotationReport): NodeRotationSummary {
  return {
    rotated: r.outcome === 'rotated',
    removed: r.removed,
    promoted: r.promoted.map((s) => ({ from: s.from, to: s.to })),
    retainedPastKeep: r.protected.map((p) => ({ name: p.newName, reason: p.reason })),
    steps: [...r.repairs, ...r.renames.map((s) => `rename ${s.from} → ${s.to}`)],
  };
}

export interface FtpNodeNasOptions {
  ftp: FtpConfig;
  /** Generations per tier: `keep` dailies, and weekly/monthly when set. */
  retention: RetentionCounts;
  runId: string;
  logger: Logger;
  startedAt: Date;
  /** The config's lockLease; default 10 minutes. The NAS timeouts derive from it (nasTimings.ts). */
  lockLeaseMs?: number;
  /** Overrides the FTP command timeout derived from the lease (tests, bench). */
  timeoutMs?: number;
  /** Overrides the renewal interval derived from the lease (tests). */
  renewEveryMs?: number;
}

/** Connects one FTP session (the real one by default; tests pass an in-memory NAS). */
export type OpenSession = (settings: FtpSettings, logger: Logger) => Promise<NasSession>;

/**
 * Opens the NAS side of a node run over a fresh FTP session. Every node of a
 * run talks to the same NAS: once one node's session found it silent, nodes
 * that start later fail at once instead of each waiting out a connect timeout
 * (the run must end within 2 minutes of the NAS going silent, however many
 * nodes are still queued).
 */
export function ftpNodeNas(
  o: FtpNodeNasOptions,
  openSession: OpenSession = openNasSession,
): OpenNodeNas {
  let silent: unknown;
  return async (node: string): Promise<NodeNas> => {
    // Validates the node name before it becomes part of any remote path.
    const layout = nodeLayout(o.ftp.dir, node);
    if (silent !== undefined) {
      throw new Error(
        `the NAS does not answer (another node's session failed after its reconnect: ${errorMessage(silent)})`,
      );
    }
    const logger = o.logger.child({ node });
    const timings = {
      ...nasTimings(o.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS),
      ...(o.renewEveryMs ? { renewEveryMs: o.renewEveryMs } : {}),
    };
    // No abort signal: after an interrupt we still release the lock and write the manifest.
    const fs = await openSession(
      { ...o.ftp, timeoutMs: o.timeoutMs ?? timings.commandTimeoutMs },
      logger,
    );
    fs.gone.addEventListener(
      'abort',
      () => {
        silent ??= fs.gone.reason;
      },
      { once: true },
    );
    return {
      timings,
      gone: fs.gone,
      revive: (timeoutMs) => fs.revive(timeoutMs),
      lock: (breakLock) =>
        acquireLock(
          fs,
          layout.lock,
          {
            runId: o.runId,
            host: hostname(),
            pid: process.pid,
            startedAt: o.startedAt.toISOString(),
          },
          { breakLock, logger, leaseMs: timings.leaseMs },
        ),
      heal: async () => {
        const r = await prepareNodeTree(fs, layout.nodeDir, {
          ...o.retention,
          logger,
          runId: o.runId,
        });
        return rotationSummary(r).steps;
      },
      verify: (expected) => verifyFiles(fs, layout.transfer, expected),
      readTransferText: (name) => fs.readText(joinRemote(layout.transfer, name)),
      finish: async (manifest, rotate) => {
        const r = await finishNodeRun(fs, layout.nodeDir, manifest, {
          ...o.retention,
          rotate,
          logger,
        });
        return rotationSummary(r);
      },
      findCopy: async (name, size) => {
        for (const dir of await copyDirs(fs, layout.nodeDir)) {
          const found = await fs.size(
            joinRemote(joinRemote(layout.nodeDir, dir), name, 'archive name'),
          );
          if (found === size) return dir;
        }
        return undefined;
      },
      makeTransfer: () => fs.mkdirp(layout.transfer),
      recordInGeneration: (generation, guest) =>
        addToManifest(fs, layout.nodeDir, generation, guest),
      close: () => fs.close(),
    };
  };
}

/** transfer/, then the generation directories newest first (daily before weekly before monthly). */
async function copyDirs(fs: Pick<RemoteFs, 'list'>, nodeDir: string): Promise<string[]> {
  const entries = (await fs.list(nodeDir)) ?? [];
  const gens = entries
    .filter((e) => e.type === 'dir' && isGenerationName(e.name))
    .map((e) => e.name)
    .sort((a, b) => generationOrder(a) - generationOrder(b));
  const hasTransfer = entries.some((e) => e.type === 'dir' && e.name === TRANSFER_NAME);
  return hasTransfer ? [TRANSFER_NAME, ...gens] : gens;
}

/** Add a guest to a generation's manifest; already listed as saved with that file: nothing to do. */
async function addToManifest(
  fs: Pick<RemoteFs, 'readText' | 'writeText'>,
  nodeDir: string,
  generation: string,
  guest: ManifestGuest,
): Promise<void> {
  const path = joinRemote(joinRemote(nodeDir, generation, 'generation'), MANIFEST_NAME);
  const text = await fs.readText(path);
  if (text === undefined) throw new Error(`${path} is missing`);
  const manifest = parseManifest(text);
  const names = new Set(guest.files.map((f) => f.name));
  const listed = manifest.guests.some(
    (g) => g.status === 'saved' && g.files.some((f) => names.has(f.name)),
  );
  if (listed) return;
  // An adopted leftover lists its unverified archives under `failed`: the file now
  // recorded as saved leaves that entry (which goes when it has no file left).
  manifest.guests = manifest.guests.flatMap((g) => {
    if (g.vmid !== guest.vmid || g.status === 'saved') return [g];
    const files = g.files.filter((f) => !names.has(f.name));
    return files.length > 0 ? [{ ...g, files }] : [];
  });
  manifest.guests.push(guest);
  // writeText writes aside and renames over: a reader never sees half a manifest. The temp
  // name goes in the node dir, which healing lists at every start, so that no generation
  // has to be listed for a write cut short.
  await fs.writeText(path, serializeManifest(manifest), {
    tempPath: joinRemote(nodeDir, `.${generation}-${MANIFEST_NAME}${TEMP_SUFFIX}`),
  });
}
