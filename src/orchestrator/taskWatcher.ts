/**
 * Follows one PVE task (vzdump, imgdel) until it ends, one API request at a
 * time: normally a log page (which also shows progress and, through its final
 * `TASK …` line, the end), every few requests a status poll instead (a worker
 * killed hard writes no final line). The pace (taskPacer.ts) keeps the average
 * at <= 1 request/s per running task and polls fast once the log says the
 * archive is written, so the end is seen within a fraction of a second.
 *
 * The final line is the task's exit status: PVE's status endpoint derives
 * `exitstatus` from that very line (pve-common PVE/Tools.pm upid_read_status:
 * `TASK OK` → OK, `TASK WARNINGS: n` → WARNINGS: n, `TASK ERROR: msg` → msg), so
 * reading it ends the watch without one more request.
 */

import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { PveClient } from '../pveApi/index.js';
import { sleep as defaultSleep } from './sleep.js';
import { type TaskEndHint, TaskPacer } from './taskPacer.js';

/** The part of the API client the watcher needs (tests pass a fake). */
export type TaskApi = Pick<PveClient, 'taskStatus' | 'taskLog' | 'stopTask'>;

export interface WatchTaskOptions {
  node: string;
  upid: string;
  logger: Logger;
  /** Abandon watching (the task keeps running on the node): rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * When aborted: ask PVE to stop the task (once), then keep following it until it ends —
   * for at most `stopGraceMs`, so a stop that PVE does not carry out cannot hold the exit.
   */
  stopSignal?: AbortSignal;
  /**
   * How long to follow a task after asking PVE to stop it (default 8 s: PVE sends the worker
   * SIGTERM, then SIGKILL 5 s later; SIGTERM promises an exit within 15 s in all).
   */
  stopGraceMs?: number;
  /** Progress lines (`NN%`, `transferred`, `archive file size`) as they appear. */
  onProgress?: (line: string) => void;
  /** Delay before the first poll (default 500 ms): tasks often fail at once (bad storage, locked guest). */
  firstPollMs?: number;
  /** Tick length (default 1 s): the average allows one request per tick (taskPacer.ts). */
  intervalMs?: number;
  /** Gap between requests once the log says the archive is written (default 150 ms). */
  tailGapMs?: number;
  /**
   * What the node's earlier tasks say of when this one ends (taskPacer.ts); told in turn when
   * this one was seen ending, unless a stop was requested.
   */
  endHint?: TaskEndHint;
  /** Every `statusEvery`-th request polls the status instead of the log. */
  statusEvery?: number;
  /** Lines per log request (explicit: `limit=0` means 50 before PVE 7.3). */
  logPageLimit?: number;
  /** Give up after this many consecutive failed requests, or failed status polls (the client already retried each). */
  maxConsecutiveErrors?: number;
  /** Lines kept in memory; older lines beyond it are dropped except ERROR/WARN ones. */
  maxKeptLines?: number;
  sleep?: typeof defaultSleep;
  /** Clock for the stop grace (tests pass their virtual clock). */
  now?: () => number;
}

export interface WatchTaskResult {
  exitstatus: string;
  /** Task log lines (text only), in order; possibly thinned to the ERROR/WARN lines when very long. */
  lines: string[];
  /** API requests made while watching. */
  requests: number;
  /** Whether a stop was requested through the API. */
  stopRequested: boolean;
}

const PROGRESS = /(\b\d{1,3}(\.\d+)?%|\btransferred\b|archive file size)/i;
const END_LINE = /^TASK (OK|WARNINGS: \d+|ERROR: .+)$/;
/** Lines after which only the hook's upload and the job's end remain (vzdump's own wording). */
const NEAR_END =
  /^(INFO: (archive file size|Finished Backup of VM|Backup job finished)|ERROR: Backup of VM)/;
/** What PVE's log reader answers instead of lines for an empty or unreadable file. */
const PLACEHOLDER = /^(no content|unable to open file\b)/;

/** Whether a task log line is worth surfacing as progress. */
export function isProgressLine(line: string): boolean {
  return PROGRESS.test(line);
}

/**
 * Reads a task's log page by page from where it left off, keeping the lines
 * (thinned when very long), surfacing progress and noticing the final line.
 */
class TaskLogReader {
  readonly lines: string[] = [];
  /** The final `TASK …` line was read, as the last line so far. */
  sawEnd = false;
  /** The exit status the final line states. */
  endStatus = '';
  /** The log says the archive is written (or the guest failed): the end is near. */
  nearEnd = false;
  requests = 0;
  #start = 0;

  constructor(
    private readonly api: TaskApi,
    private readonly o: WatchTaskOptions,
    readonly limit: number,
    private readonly maxKept: number,
  ) {}

  /** Fetch one log page; returns how many new lines arrived. */
  async readPage(): Promise<number> {
    this.requests++;
    const page = await this.api.taskLog(
      this.o.node,
      this.o.upid,
      this.#start,
      this.limit,
      this.o.signal,
    );
    let fresh = 0;
    for (const { n, t } of page.lines) {
      if (n <= this.#start) continue;
      // An empty log reads as one placeholder line numbered 1: do not consume it,
      // or the real first line would be skipped later.
      if (n === 1 && page.lines.length === 1 && PLACEHOLDER.test(t)) break;
      this.#start = n;
      fresh++;
      this.#keep(t);
      // Only a final line with nothing after it ends the task (one in the middle is not PVE's).
      const end = END_LINE.exec(t);
      this.sawEnd = end !== null;
      if (end) this.endStatus = end[1] === 'OK' ? 'OK' : end[1]!.replace(/^ERROR: /, '');
      if (NEAR_END.test(t)) this.nearEnd = true;
      if (this.o.onProgress && isProgressLine(t)) this.o.onProgress(t);
    }
    return fresh;
  }

  /** Read what is left of a finished log (bounded: a finished log does not grow). */
  async drain(): Promise<void> {
    for (let page = 0; page < 50 && !this.sawEnd; page++) {
      if ((await this.readPage()) < this.limit) break;
    }
  }

  #keep(text: string): void {
    const { lines, maxKept } = this;
    lines.push(text);
    if (lines.length > maxKept) {
      // Thin the middle: the reason of a failure is in ERROR/WARN lines.
      const head = lines.splice(0, lines.length - Math.floor(maxKept / 2));
      lines.unshift(...head.filter((l) => /^(ERROR|WARN)/.test(l)).slice(-Math.floor(maxKept / 4)));
    }
  }
}

/** Ask PVE once to stop the task; a refusal is logged, the watch goes on. */
async function requestStop(api: TaskApi, o: WatchTaskOptions): Promise<void> {
  try {
    await api.stopTask(o.node, o.upid, o.signal);
    o.logger.warn('stop requested for running task', { node: o.node, upid: o.upid });
  } catch (error) {
    o.logger.warn('could not stop task', {
      node: o.node,
      upid: o.upid,
      error: errorMessage(error),
    });
  }
}

/** Follow the task until PVE reports it stopped; returns its exit status and log. */
export async function watchTask(api: TaskApi, o: WatchTaskOptions): Promise<WatchTaskResult> {
  const sleep = o.sleep ?? defaultSleep;
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 1000;
  const statusEvery = Math.max(1, o.statusEvery ?? 5);
  const maxErrors = o.maxConsecutiveErrors ?? 60;
  const wake = o.stopSignal ? [o.stopSignal] : [];
  const log = new TaskLogReader(api, o, Math.max(1, o.logPageLimit ?? 500), o.maxKeptLines ?? 5000);
  const expectedEnd = o.endHint?.expectedEndMs();
  // A short task expected to end soon is first polled when it should have ended: the
  // early poll (for tasks failing at once) would spend the token that poll needs.
  const firstPoll =
    expectedEnd !== undefined && expectedEnd <= 3 * interval
      ? Math.max(o.firstPollMs ?? 500, expectedEnd)
      : (o.firstPollMs ?? 500);
  // The bucket starts so that it holds exactly one token at the first poll (for a first poll
  // within a tick): over the task's life, requests <= its seconds + 1 - firstPoll/1000.
  const pacer = new TaskPacer({
    tickMs: interval,
    tailGapMs: o.tailGapMs ?? 150,
    initial: Math.max(0, 1 - firstPoll / interval),
    ...(expectedEnd !== undefined ? { expectedEndMs: expectedEnd } : {}),
  });
  const pause = async (ms: number, wakeOn: AbortSignal[]) => {
    pacer.waited(ms);
    await sleep(ms, o.signal, wakeOn);
  };

  let otherRequests = 0;
  let tick = 0;
  let errors = 0;
  // Status polls fail-count on their own: log pages succeeding in between must not
  // hide a status that never answers (only the status tells a hard-killed worker's end).
  let statusErrors = 0;
  let stopRequested = false;
  let stopDeadline = Number.POSITIVE_INFINITY;
  const requests = () => log.requests + otherRequests;
  // When a request last saw the task running (pacer time), for the node's end hint.
  let lastRunning: number | undefined;
  const result = (exitstatus: string): WatchTaskResult => {
    if (!stopRequested) o.endHint?.observe(lastRunning, pacer.elapsed, expectedEnd);
    return { exitstatus, lines: log.lines, requests: requests(), stopRequested };
  };

  await pause(firstPoll, wake);
  for (;;) {
    if (o.stopSignal?.aborted && !stopRequested) {
      stopRequested = true;
      stopDeadline = now() + (o.stopGraceMs ?? 8000);
      otherRequests++;
      await requestStop(api, o);
    }
    if (now() > stopDeadline) {
      throw new Error(
        `task ${o.upid} on node ${o.node} did not stop within ${Math.round((o.stopGraceMs ?? 8000) / 1000)} s of the stop request; it may still run there`,
      );
    }
    tick++;
    // Near the end the final line will tell: status polls (for a worker killed hard, which
    // writes none) are rarer there, so the fast tail spends its requests on the log.
    const nearEnd = log.nearEnd || stopRequested;
    const statusTick = tick % (nearEnd ? statusEvery * 4 : statusEvery) === 0;
    pacer.spend();
    try {
      if (statusTick) {
        otherRequests++;
        const status = await api.taskStatus(o.node, o.upid, o.signal);
        statusErrors = 0;
        if (status.status === 'stopped') {
          if (!log.sawEnd) await log.drain();
          return result(status.exitstatus ?? 'unexpected status');
        }
      } else {
        await log.readPage();
        if (log.sawEnd) return result(log.endStatus);
      }
      lastRunning = pacer.elapsed;
      errors = 0;
    } catch (error) {
      if (o.signal?.aborted) throw o.signal.reason;
      errors++;
      if (statusTick) statusErrors++;
      o.logger.warn('task poll failed', {
        node: o.node,
        upid: o.upid,
        error: errorMessage(error),
        errors,
      });
      const failed = Math.max(errors, statusErrors);
      if (failed >= maxErrors) {
        throw new Error(
          `lost track of task ${o.upid} on node ${o.node} after ${failed} failed polls: ${errorMessage(error)}`,
          { cause: error },
        );
      }
    }
    await pause(pacer.nextDelay(pacer.phase(nearEnd)), stopRequested ? [] : wake);
  }
}
