/** Pure computations of the bench figures from the world's task/request records. */

export interface TaskRecord {
  upid: string;
  node: string;
  vmids: number[];
  firstSeen: number;
  endedAt?: number;
  exitstatus?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  at: number;
}

export interface TaskFigures {
  /** max over nodes of the sum of that node's task times (ms): no orchestrator can beat it. */
  boundMs: number;
  /** Task end → the watcher's first request after it, which learns the end (ms), per task. */
  detectionMs: number[];
  /** vzdump task end → the next vzdump POST on that node (ms): the time between guests. */
  gapMs: number[];
  /** API requests about a task per second of its run time, per task. */
  requestsPerSecond: number[];
  /**
   * All those requests over all the tasks' run time: the average rate per running task, the
   * figure issue #11 bounds (one missed guess makes a single short task's own rate exceed it).
   */
  averageRequestsPerSecond: number;
}

/** Figures of a run from what the simulator saw. */
export function taskFigures(tasks: TaskRecord[], requests: RequestRecord[]): TaskFigures {
  const perNode = new Map<string, number>();
  const detectionMs: number[] = [];
  const requestsPerSecond: number[] = [];
  const byTask = new Map<string, RequestRecord[]>();
  let allRequests = 0;
  let allRunMs = 0;
  for (const r of requests) {
    const m = /\/tasks\/([^/]+)\//.exec(r.path);
    if (!m?.[1]) continue;
    const list = byTask.get(m[1]) ?? [];
    list.push(r);
    byTask.set(m[1], list);
  }
  for (const t of tasks) {
    if (t.endedAt === undefined) continue;
    const duration = t.endedAt - t.firstSeen;
    perNode.set(t.node, (perNode.get(t.node) ?? 0) + duration);
    const mine = byTask.get(t.upid) ?? [];
    // The watcher learns the end from its next request: the log page with the TASK line, or
    // a status poll.
    const seen = mine.find((r) => r.at >= (t.endedAt ?? 0));
    if (seen) detectionMs.push(Math.max(0, seen.at - (t.endedAt ?? 0)));
    // Every request about the task up to the one that learned its end, per second of its run.
    const until = seen?.at ?? t.endedAt;
    const during = mine.filter((r) => r.at >= t.firstSeen && r.at <= until).length;
    if (duration >= 1000) requestsPerSecond.push(during / (duration / 1000));
    allRequests += during;
    allRunMs += duration;
  }
  const gapMs: number[] = [];
  const posts = requests.filter((r) => r.method === 'POST' && r.path.endsWith('/vzdump'));
  for (const t of tasks) {
    if (t.endedAt === undefined || !t.upid.includes(':vzdump:')) continue;
    const next = posts.find(
      (p) => p.path.includes(`/nodes/${t.node}/`) && p.at >= (t.endedAt ?? 0),
    );
    if (next) gapMs.push(next.at - (t.endedAt ?? 0));
  }
  return {
    boundMs: Math.max(0, ...perNode.values()),
    detectionMs,
    gapMs,
    requestsPerSecond,
    averageRequestsPerSecond: allRunMs > 0 ? allRequests / (allRunMs / 1000) : Number.NaN,
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

/** What the simulator says of its tasks (PveSimulator.tasks()). */
type SimTasks = {
  tasks(): { upid: string; node: string; vmids: number[]; running: boolean; exitstatus?: string }[];
};

/** Watch the simulator's tasks every `everyMs` to know when each really started and ended. */
export function trackTasks(
  sim: SimTasks,
  everyMs: number,
): { records: Map<string, TaskRecord>; stop(): void } {
  const records = new Map<string, TaskRecord>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const t of sim.tasks()) {
      let rec = records.get(t.upid);
      if (!rec) {
        rec = { upid: t.upid, node: t.node, vmids: t.vmids, firstSeen: now };
        records.set(t.upid, rec);
      }
      if (!t.running && rec.endedAt === undefined) {
        rec.endedAt = now;
        if (t.exitstatus !== undefined) rec.exitstatus = t.exitstatus;
      }
    }
  }, everyMs);
  return { records, stop: () => clearInterval(timer) };
}
