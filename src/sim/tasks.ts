/**
 * Worker tasks: UPID, log lines and end status, as `/var/log/pve/tasks` holds
 * them (docs/pve-facts.md#tasks). Logs stay in memory: a simulated job writes a few dozen
 * lines.
 */
import { encodeUpid, type UpidParts } from './upid.js';

export interface SimTask {
  readonly upid: string;
  readonly parts: UpidParts;
  readonly lines: string[];
  running: boolean;
  /** `OK`, `WARNINGS: n` or the error text, once stopped. */
  exitstatus?: string;
  endtime?: number;
  /** vmids the task works on (vzdump), for `tasks()`. */
  vmids: number[];
  /** Set by the job: stops it (DELETE /tasks/{upid}). */
  stop?: () => void;
  /** Resolves when the task has stopped. */
  readonly done: Promise<void>;
}

interface MutableTask extends SimTask {
  resolveDone: () => void;
}

export class TaskStore {
  readonly #tasks: MutableTask[] = [];
  // Fake pids start where a real node's daemons would be; unique per simulator.
  #nextPid = 0x7ea2;
  readonly #pstart = 0xbc0fc;

  /** Starts a task record; the caller logs lines and calls `finish`. */
  create(node: string, type: string, id: string, user: string, vmids: number[] = []): SimTask {
    const parts: UpidParts = {
      node,
      pid: this.#nextPid++,
      pstart: this.#pstart + this.#tasks.length,
      starttime: Math.floor(Date.now() / 1000),
      type,
      id,
      user,
    };
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const task: MutableTask = {
      upid: encodeUpid(parts),
      parts,
      lines: [],
      running: true,
      vmids,
      done,
      resolveDone,
    };
    this.#tasks.push(task);
    return task;
  }

  /** Ends a task with its last log line (`TASK OK`, `TASK WARNINGS: n`, `TASK ERROR: …`). */
  finish(
    task: SimTask,
    status: { ok: true; warnings?: number } | { ok: false; error: string },
  ): void {
    const t = task as MutableTask;
    if (!t.running) return;
    if (status.ok && status.warnings) {
      t.lines.push(`TASK WARNINGS: ${status.warnings}`);
      t.exitstatus = `WARNINGS: ${status.warnings}`;
    } else if (status.ok) {
      t.lines.push('TASK OK');
      t.exitstatus = 'OK';
    } else {
      // Multi-line errors are joined onto one line in the task log.
      const text = status.error.replace(/\s*\n\s*/g, ' ').trim();
      t.lines.push(`TASK ERROR: ${text}`);
      t.exitstatus = text;
    }
    t.running = false;
    t.endtime = Math.floor(Date.now() / 1000);
    t.resolveDone();
  }

  /** A task by UPID (hex fields compared case-insensitively). */
  get(upid: string): SimTask | undefined {
    const norm = upid.toUpperCase();
    return this.#tasks.find((t) => t.upid.toUpperCase() === norm);
  }

  all(): readonly SimTask[] {
    return this.#tasks;
  }
}
