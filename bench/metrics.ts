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
  /** Task end → first status poll that saw it stopped (ms), per task. */
  detectionMs: number[];
  /** API requests about a task per second of its run time, per task. */
  requestsPerSecond: number[];
}

/** Figures of a run from what the simulator saw. */
export function taskFigures(tasks: TaskRecord[], requests: RequestRecord[]): TaskFigures {
  const perNode = new Map<string, number>();
  const detectionMs: number[] = [];
  const requestsPerSecond: number[] = [];
  const byTask = new Map<string, RequestRecord[]>();
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
    // The watcher learns the end from a status poll (or the log's TASK line, then a status poll).
    const seen = mine.find((r) => r.path.endsWith('/status') && r.at >= (t.endedAt ?? 0));
    if (seen) detectionMs.push(Math.max(0, seen.at - (t.endedAt ?? 0)));
    const during = mine.filter((r) => r.at >= t.firstSeen && r.at < (t.endedAt ?? 0)).length;
    // Short tasks are dominated by the one quick first poll: rate only over >= 3 s.
    if (duration >= 3000) requestsPerSecond.push(during / (duration / 1000));
  }
  return { boundMs: Math.max(0, ...perNode.values()), detectionMs, requestsPerSecond };
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
