/**
 * A vzdump worker task (docs/pve-facts.md#vzdump-job and #hook): job-init
 * (≥ 7.1), the node-global lock, job-start, every guest in vmid order (guestBackup.ts), job-end or
 * job-abort, and the final `TASK …` line with the flavour's semantics.
 */
import { mkdir } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { ClusterState, NodeState } from './cluster.js';
import { backupGuest, type JobContext } from './guestBackup.js';
import { type HookCall, runHook } from './hookRunner.js';
import { acquireNodeLock } from './nodeLock.js';
import type { SimTask } from './tasks.js';

export interface VzdumpJobSpec {
  node: NodeState;
  /** Validated parameters (flat). */
  params: Record<string, string>;
  /** vmids to attempt on this node, sorted (3.x includes foreign ones). */
  vmids: number[];
  /** vmids of other nodes that (≥ 6.0) are skipped. */
  skipped: number[];
  storage: string;
}

/** Where the job stands; `jobError` ends it with `TASK ERROR: <msg>`. */
interface JobOutcome {
  errors: number;
  warnings: number;
  jobError?: string;
}

function commandLine(spec: VzdumpJobSpec): string {
  const parts = ['vzdump', ...spec.vmids.map(String)];
  for (const [k, v] of Object.entries(spec.params)) {
    if (k === 'vmid') continue;
    parts.push(`--${k}`, /[\s']/.test(v) ? `'${v}'` : v);
  }
  if (spec.params.node === undefined) parts.push('--node', spec.node.name);
  return parts.join(' ');
}

/** Starts the job in the background; the task records its log and end. */
export function runVzdumpJob(state: ClusterState, task: SimTask, spec: VzdumpJobSpec): void {
  const abort = new AbortController();
  task.stop = () => abort.abort();
  void jobMain(state, task, spec, abort.signal).catch((err: unknown) => {
    state.tasks.finish(task, {
      ok: false,
      error: errorMessage(err),
    });
  });
}

async function jobMain(
  state: ClusterState,
  task: SimTask,
  spec: VzdumpJobSpec,
  signal: AbortSignal,
): Promise<void> {
  const { flavour } = state;
  const { node } = spec;
  const log = (line: string): void => {
    task.lines.push(line);
  };
  const hook = async (phase: string, env: Record<string, string>): Promise<string | undefined> => {
    if (!node.script) return undefined;
    const call: HookCall = {
      script: node.script,
      phase,
      env: { ...env, ...node.hookEnv },
      viaShell: flavour.hookViaShell,
      explicitErrors: flavour.jobInit,
    };
    return runHook(call, (l) => log(`INFO: ${l}`), signal);
  };
  const storageEnv = { STOREID: spec.storage };
  const jobEnv = { STOREID: spec.storage, DUMPDIR: node.dumpDir };

  if (flavour.jobInit) {
    // job-init runs first in new(), before storage activation and the global lock (PM ≥ 7.1-11).
    const err = await hook('job-init', storageEnv);
    if (err) throw new Error(err);
  }
  // Since PM 4.2 storage errors surface here, as TASK ERROR (3.x refused the POST already).
  const storage = node.storages.find((s) => s.id === spec.storage);
  if (!storage) throw new Error(`storage '${spec.storage}' does not exist`);
  if (!storage.backup) throw new Error(`storage '${spec.storage}' does not support backups`);
  await mkdir(node.dumpDir, { recursive: true });
  let waited = false;
  const lockwaitMin = spec.params.lockwait !== undefined ? Number(spec.params.lockwait) : 180;
  const release = await acquireNodeLock(node, {
    waitMs: lockwaitMin * 60_000,
    verb: flavour.lockVerb,
    signal,
    onWait: () => {
      waited = true;
      log('INFO: trying to get global lock - waiting...');
    },
  });
  const outcome: JobOutcome = { errors: 0, warnings: 0 };
  try {
    if (waited) log('INFO: got global lock');
    log(`INFO: starting new backup job: ${commandLine(spec)}`);
    const ctx: JobContext = {
      state,
      node,
      task,
      params: spec.params,
      storage: spec.storage,
      signal,
      log,
      outcome,
    };
    if (spec.skipped.length > 0) log(`INFO: skip external VMs: ${spec.skipped.join(', ')}`);
    let jobErr = await hook('job-start', jobEnv);
    if (!jobErr) {
      for (const vmid of spec.vmids) {
        await backupGuest(ctx, vmid);
        if (signal.aborted) break;
      }
      jobErr = signal.aborted ? 'interrupted by signal' : await hook('job-end', jobEnv);
    }
    if (jobErr) {
      outcome.jobError = jobErr;
      const abortErr = signal.aborted ? undefined : await hook('job-abort', jobEnv);
      if (abortErr && !flavour.hookWarnings) {
        // 3.x does not wrap job-abort: its failure replaces the job error, unlogged.
        outcome.jobError = abortErr;
      } else {
        if (abortErr) outcome.jobError = `${jobErr}\n${abortErr}`;
        log(`ERROR: Backup job failed - ${jobErr}`);
      }
    } else {
      log(`INFO: Backup job finished ${outcome.errors > 0 ? 'with errors' : 'successfully'}`);
    }
  } finally {
    release();
  }
  if (outcome.jobError) state.tasks.finish(task, { ok: false, error: outcome.jobError });
  else if (outcome.errors > 0) state.tasks.finish(task, { ok: false, error: 'job errors' });
  else
    state.tasks.finish(task, { ok: true, warnings: flavour.hookWarnings ? outcome.warnings : 0 });
}
