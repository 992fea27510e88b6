/**
 * One guest inside a vzdump job (docs/pve-facts.md#vzdump-job and #hook): config
 * lock, hook phases
 * in the real order for the mode and flavour, the archive (`.dat` then
 * renamed), failures (locked guest, failBackup fault, hook exits), the per-guest
 * `.log` written after backup-end/backup-abort and only then `log-end`.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { archiveBasename, archiveExtension, writeArchive } from './archive.js';
import { type ClusterState, guestName, type NodeState } from './cluster.js';
import { type HookCall, runHook } from './hookRunner.js';
import type { SimTask } from './tasks.js';
import { duration, formatSize, localTime } from './vzdumpLog.js';

export interface JobContext {
  state: ClusterState;
  node: NodeState;
  task: SimTask;
  params: Record<string, string>;
  storage: string;
  signal: AbortSignal;
  log: (line: string) => void;
  outcome: { errors: number; warnings: number };
}

/** A guest-level failure carrying vzdump's message. */
class GuestError extends Error {}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new GuestError('interrupted by signal'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new GuestError('interrupted by signal'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backs up one guest; counts its failure or warnings into `ctx.outcome`. */
export async function backupGuest(ctx: JobContext, vmid: number): Promise<void> {
  const { state, node, log } = ctx;
  const { flavour } = state;
  const guest = node.guests.find((g) => g.vmid === vmid && state.visible(g));
  if (!guest) {
    // 3.x tries foreign vmids locally and fails them in the task.
    log(`ERROR: Backup of VM ${vmid} failed - unable to find VM '${vmid}'`);
    ctx.outcome.errors++;
    return;
  }
  const start = new Date();
  const basename = archiveBasename(guest.type, vmid, start);
  const ext = archiveExtension(guest.type, ctx.params.compress);
  const target = path.join(node.dumpDir, `${basename}.${ext}`);
  const logfile = path.join(node.dumpDir, `${basename}.log`);
  const guestLog: string[] = [];
  const glog = (line: string): void => {
    log(line);
    guestLog.push(`${localTime(new Date())} ${line}`);
  };
  const env = {
    STOREID: ctx.storage,
    DUMPDIR: node.dumpDir,
    VMTYPE: guest.type,
    HOSTNAME: guestName(guest),
    [flavour.targetEnv]: target,
    LOGFILE: logfile,
  };
  const running = guest.status === 'running';
  const requested = ctx.params.mode ?? 'snapshot';
  // A stopped guest is always backed up in stop mode.
  const mode = running ? requested : 'stop';
  const hook = async (phase: string): Promise<string | undefined> => {
    if (!node.script) return undefined;
    const call: HookCall = {
      script: node.script,
      phase,
      mode,
      vmid,
      env: { ...env, ...node.hookEnv },
      viaShell: flavour.hookViaShell,
      explicitErrors: flavour.jobInit,
    };
    return runHook(call, (l) => glog(`INFO: ${l}`), ctx.signal);
  };
  const must = async (phase: string): Promise<void> => {
    const err = await hook(phase);
    if (err) throw new GuestError(err);
  };
  const warnOnly = async (phase: string): Promise<void> => {
    const err = await hook(phase);
    // ≥ 8.2.2 logs failing backup-abort/log-end hooks as WARN; older versions ignore them.
    if (err && flavour.hookWarnings) {
      log(`WARN: ${err}`);
      ctx.outcome.warnings++;
    }
  };

  await rm(logfile, { force: true });
  glog(`INFO: Starting Backup of VM ${vmid} (${guest.type})`);
  if (flavour.hookWarnings) glog(`INFO: Backup started at ${localTime(start)}`);
  // Cleanup duties, as vzdump records them: restart after stop, resume after suspend.
  let restart = false;
  let resume = false;
  let failed: string | undefined;
  const savedLock = guest.lock;
  let locked = false;
  try {
    glog(`INFO: status = ${running ? 'running' : 'stopped'}`);
    if (guest.lock) {
      throw new GuestError(`${guest.type === 'qemu' ? 'VM' : 'CT'} is locked (${guest.lock})`);
    }
    guest.lock = 'backup';
    locked = true;
    if (guest.type === 'lxc') glog(`INFO: CT Name: ${guestName(guest)}`);
    if (guest.type === 'qemu') glog(`INFO: VM Name: ${guestName(guest)}`);
    glog(`INFO: backup mode: ${mode}`);
    glog('INFO: ionice priority: 7');
    await must('backup-start');
    if (mode === 'stop') {
      if (running) {
        glog('INFO: stopping virtual guest');
        await must('pre-stop');
        restart = true;
      }
    } else if (mode === 'suspend') {
      glog('INFO: suspending guest');
      await must('pre-stop');
      resume = true;
      if (guest.type !== 'qemu') {
        // Containers resume right after the second rsync pass, before the archive.
        glog('INFO: resuming guest');
        resume = false;
        await must('pre-restart');
        if (flavour.postRestart) await must('post-restart');
      }
    } else {
      await must('pre-stop');
      glog(
        guest.type === 'openvz'
          ? `INFO: creating lvm snapshot of /dev/mapper/pve-data ('/dev/pve/vzsnap-${node.name}-0')`
          : guest.type === 'lxc'
            ? "INFO: create storage snapshot 'vzdump'"
            : "INFO: issuing guest-agent 'fs-freeze' command",
      );
      await must('pre-restart');
      if (flavour.postRestart) await must('post-restart');
    }
    glog(`INFO: ${flavour.archiveVerb} '${target}'`);
    const fault = state.options.faults?.failBackup?.find((f) => f.vmid === vmid);
    await sleep(state.backupDurationMs(guest), ctx.signal);
    if (fault) throw new GuestError(fault.message);
    await writeArchive(node.dumpDir, basename, ext, vmid, guest.archiveSize, ctx.signal).catch(
      (err) => {
        throw new GuestError(ctx.signal.aborted ? 'interrupted by signal' : String(err));
      },
    );
    if (guest.type !== 'qemu') glog(`INFO: Total bytes written: ${guest.archiveSize}`);
    glog(`INFO: archive file size: ${formatSize(guest.archiveSize)}`);
    await must('backup-end');
  } catch (err) {
    failed = errorMessage(err);
  }
  if (locked) guest.lock = savedLock;
  // The unfinished temporary archive never survives (vzdump unlinks the .dat).
  await rm(path.join(node.dumpDir, `${basename}.dat`), { force: true });
  if (ctx.signal.aborted) {
    log(`ERROR: Backup of VM ${vmid} failed - interrupted by signal`);
    ctx.outcome.errors++;
    return;
  }
  if (mode === 'snapshot' && guest.type === 'lxc') {
    glog("INFO: cleanup temporary 'vzdump' snapshot");
  }
  if (restart || resume) {
    // In the cleanup path hook failures are only printed; a failing pre-restart skips the restart.
    const e1 = await hook('pre-restart');
    if (e1) log(e1);
    else {
      glog(restart ? 'INFO: restarting vm' : 'INFO: resume vm');
      const e2 = flavour.postRestart ? await hook('post-restart') : undefined;
      if (e2) log(e2);
    }
  }
  if (failed !== undefined) {
    ctx.outcome.errors++;
    glog(`ERROR: Backup of VM ${vmid} failed - ${failed}`);
    if (flavour.hookWarnings) glog(`INFO: Failed at ${localTime(new Date())}`);
    await warnOnly('backup-abort');
  } else {
    glog(`INFO: Finished Backup of VM ${vmid} (${duration(Date.now() - start.getTime())})`);
    if (flavour.hookWarnings) glog(`INFO: Backup finished at ${localTime(new Date())}`);
  }
  await writeFile(logfile, `${guestLog.join('\n')}\n`);
  await warnOnly('log-end');
}
