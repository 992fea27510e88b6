/**
 * `run --dry-run`: what a run would do, reading only (API GETs, FTP listings
 * and manifests): the guests per node, the repairs an interrupted earlier run
 * needs, and the renames/deletes the rotation would do if every planned guest
 * were saved. No vzdump, no upload, no rename, no delete, no lock. Returns
 * the report; the command decides how to print it.
 */
import { posix } from 'node:path';
import type { Config, GuestStateFilter } from '../config/index.js';
import { errorMessage, outcomeExitCode } from '../errors.js';
import { type GenerationInfo, listGenerations } from '../ftp/generations.js';
import { nodeLayout } from '../ftp/layout.js';
import { MANIFEST_NAME, type Manifest, tryParseManifest } from '../ftp/manifest.js';
import type { RemoteEntry, RemoteFs } from '../ftp/remoteFs.js';
import { applyRenames } from '../ftp/rotation/exec.js';
import { isTrashName, JOURNAL, TRANSFER } from '../ftp/rotation/names.js';
import { prepareNodeTree } from '../ftp/rotation/nodeTree.js';
import { planRotation, type RenameStep } from '../ftp/rotation/plan.js';
import { openNasSession } from '../ftp/session.js';
import type { Logger } from '../log.js';
import type { PveClientOptions } from '../pveApi/index.js';
import type { NodePlan } from './plan.js';
import { runPool } from './pool.js';
import { newRunId, planBackup } from './runBackup.js';
import type { ClusterFailure } from './types.js';

export interface DryRunNode {
  cluster: string;
  node: string;
  online: boolean;
  pveVersion: string;
  guests: NodePlan['guests'];
  skipped: NodePlan['skipped'];
  /** What is on the NAS now (newest first). */
  generations: GenerationInfo[];
  /** Whether `.lock` exists now (a run would skip the node unless --break-lock). */
  lockPresent: boolean;
  /** Repairs of an interrupted earlier run that the next run would do first. */
  repairs: string[];
  /** Renames the rotation would do (after the repairs), relative to the node dir. */
  renames: RenameStep[];
  /** Generations retention would remove. */
  removes: string[];
  /** Generations that would move into an older tier (`daily.9` → `weekly.0`, names before the rotation). */
  promotes: RenameStep[];
  /** Generations that would stay past keep, and why. */
  retainedPastKeep: { name: string; reason: string }[];
  /** Why the NAS part could not be read. */
  error?: string;
}

export interface DryRunReport {
  version: 1;
  runId: string;
  dryRun: true;
  exitCode: number;
  clusterFailures: ClusterFailure[];
  nodes: DryRunNode[];
}

/** What `run --dry-run` selects and how it reaches the clusters. */
export interface DryRunOptions {
  config: Config;
  nodes: string[];
  vmids: number[];
  guests?: GuestStateFilter;
  rotate: boolean;
  logger: Logger;
  signal: AbortSignal;
  /** Told every secret the API clients come to use (tickets, CSRF tokens), for redaction. */
  onSecret?: (secret: string) => void;
  /** Test knobs passed to every API client. */
  client?: Pick<PveClientOptions, 'retry' | 'timeouts'>;
}

/** Plan the run without writing: inventory and plan (GETs), then each node's NAS side. */
export async function planDryRun(o: DryRunOptions): Promise<DryRunReport> {
  const runId = newRunId();
  const planned = await planBackup({
    config: o.config,
    nodes: o.nodes,
    vmids: o.vmids,
    ...(o.guests ? { guests: o.guests } : {}),
    logger: o.logger,
    signal: o.signal,
    ...(o.onSecret ? { onSecret: o.onSecret } : {}),
    ...(o.client ? { client: o.client } : {}),
  });
  try {
    const results = await runPool(planned.plans, o.config.backup.parallelNodes, async (plan) => {
      const fs = await openNasSession(o.config.ftp, o.logger.child({ node: plan.node }));
      try {
        return await dryRunNode(plan, fs, o.config, {
          logger: o.logger,
          runId,
          rotate: o.rotate,
        });
      } finally {
        fs.close();
      }
    });
    const nodes = results.map((r, i): DryRunNode => {
      if (r.ok) return r.value;
      const plan = planned.plans[i];
      return {
        cluster: plan?.cluster ?? '',
        node: plan?.node ?? '',
        online: plan?.online ?? false,
        pveVersion: plan?.pveVersion ?? '',
        guests: plan?.guests ?? [],
        skipped: plan?.skipped ?? [],
        generations: [],
        lockPresent: false,
        repairs: [],
        renames: [],
        removes: [],
        promotes: [],
        retainedPastKeep: [],
        error: errorMessage(r.error),
      };
    });
    return {
      version: 1,
      runId,
      dryRun: true,
      exitCode: outcomeExitCode({
        problems: planned.failures.length + nodes.filter((n) => n.error !== undefined).length,
        didWork: nodes.some((n) => n.error === undefined),
      }),
      clusterFailures: planned.failures,
      nodes,
    };
  } finally {
    await Promise.all([...planned.clients.values()].map((c) => c.close().catch(() => {})));
  }
}

/** The read-only view of one node's NAS tree a dry run needs. */
export type DryRunFs = Pick<RemoteFs, 'list' | 'readText' | 'size'>;

/** Plan the NAS side of one node without writing anything. */
export async function dryRunNode(
  plan: NodePlan,
  fs: DryRunFs,
  config: Pick<Config, 'ftp' | 'retention'>,
  o: { logger: Logger; runId: string; rotate: boolean },
): Promise<DryRunNode> {
  const layout = nodeLayout(config.ftp.dir, plan.node);
  const base: DryRunNode = {
    cluster: plan.cluster,
    node: plan.node,
    online: plan.online,
    pveVersion: plan.pveVersion,
    guests: plan.guests,
    skipped: plan.skipped,
    generations: [],
    lockPresent: false,
    repairs: [],
    renames: [],
    removes: [],
    promotes: [],
    retainedPastKeep: [],
  };
  const listed = (await fs.list(layout.nodeDir)) ?? [];
  base.lockPresent = listed.some((e) => e.name === posix.basename(layout.lock));
  base.generations = await listGenerations(fs, layout.nodeDir);

  // The repairs, planned on a fs that refuses writes (dryRun must not write; this proves it).
  const readOnly = refuseWrites(fs);
  const repair = await prepareNodeTree(readOnly, layout.nodeDir, {
    ...config.retention,
    logger: o.logger,
    dryRun: true,
    runId: o.runId,
  });
  base.repairs = repair.repairs;
  base.renames.push(...repair.renames);
  base.removes.push(...repair.removed);

  if (!plan.online || plan.guests.length === 0 || !o.rotate) return base;

  // Then this run's transfer/ entering as daily.0, as if every planned guest were saved.
  const origin = new Map<string, string>();
  let entries: RemoteEntry[] = listed
    .filter((e) => !isTrashName(e.name) && e.name !== JOURNAL)
    .map((e) => {
      origin.set(e.name, e.name);
      return e;
    });
  for (const step of repair.renames) {
    const from = origin.get(step.from) ?? step.from;
    origin.delete(step.from);
    origin.set(step.to, from);
  }
  entries = applyRenames(entries, repair.renames).filter((e) => e.name !== TRANSFER);
  entries.push({ name: TRANSFER, type: 'dir', size: 0 });
  const now = new Date().toISOString();
  const hypothetical: Manifest = {
    version: 1,
    runId: o.runId,
    node: plan.node,
    cluster: plan.cluster,
    pveVersion: plan.pveVersion,
    startedAt: now,
    finishedAt: now,
    guests: plan.guests.map((g) => ({
      vmid: g.vmid,
      type: g.type,
      name: g.name ?? '',
      status: 'saved',
      files: [],
    })),
  };
  const manifests = new Map<string, Manifest | null>([[TRANSFER, hypothetical]]);
  for (let round = 0; round <= entries.length; round++) {
    const outcome = planRotation({
      entries,
      ...config.retention,
      withTransfer: true,
      manifests,
      runId: o.runId,
    });
    if (outcome.kind === 'need') {
      for (const name of outcome.names) {
        const text = await fs.readText(
          posix.join(layout.nodeDir, origin.get(name) ?? name, MANIFEST_NAME),
        );
        const parsed = text === undefined ? undefined : tryParseManifest(text);
        manifests.set(name, parsed?.ok ? parsed.manifest : null);
      }
      continue;
    }
    base.renames.push(...outcome.plan.renames);
    base.removes.push(...outcome.plan.removed.map((r) => r.name));
    base.promotes = outcome.plan.promoted;
    base.retainedPastKeep = outcome.plan.protected.map((p) => ({
      name: p.newName,
      reason: p.reason,
    }));
    return base;
  }
  return { ...base, error: 'rotation planning did not settle' };
}

function refuseWrites(fs: DryRunFs): Parameters<typeof prepareNodeTree>[0] {
  const refuse = async (): Promise<never> => {
    throw new Error('dry run: refusing to write to the NAS');
  };
  return {
    list: (d: string) => fs.list(d),
    readText: (p: string) => fs.readText(p),
    size: (p: string) => fs.size(p),
    mkdirp: refuse,
    rename: refuse,
    removeDir: refuse,
    removeFile: refuse,
    writeText: refuse,
  } as unknown as Parameters<typeof prepareNodeTree>[0];
}
