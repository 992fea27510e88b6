/**
 * One kill point: a fresh two-node world, a run killed with SIGKILL at the n-th
 * write of `kind`, the simulated nodes left to finish what they were doing,
 * then the next run — and what must hold after it.
 */
import { archivesAt, dumpedTwice, faultWorld, healedProblems, lostArchives } from './support.js';

export interface PointResult {
  kind: 'api' | 'ftp';
  n: number;
  /** The write the run died at (method and path, or the FTP command verb and name). */
  at: string;
  /** False when the run ended before reaching that write (counts vary slightly run to run). */
  reached: boolean;
  killedRunExit: string;
  nextRunExit: number | null;
  problems: string[];
}

/** The writes of an uninterrupted run: how many kill points there are of each kind. */
export async function countWrites(): Promise<{ api: string[]; ftp: string[] }> {
  const fw = await faultWorld();
  try {
    const r = await fw.run();
    if (r.code !== 0) throw new Error(`uninterrupted run exited ${r.code}: ${r.stderr}`);
    return {
      api: fw.apiWrites().map((w) => `${w.method} ${w.path}`),
      ftp: fw.ftpWrites().map((l) => l.replace(/^(\S+ ).*\/([^/]+)$/, '$1…/$2')),
    };
  } finally {
    await fw.close();
  }
}

export async function killAt(kind: 'api' | 'ftp', n: number, at: string): Promise<PointResult> {
  const fw = await faultWorld();
  try {
    fw.armKill(kind, n);
    const killed = await fw.start().done;
    const reached = killed.signal === 'SIGKILL';
    // A run's write count varies a little (lease renewals follow the clock): a point this
    // run did not reach must not kill the next run instead.
    fw.disarm();
    // The nodes go on without the tool: the running vzdump and its hook finish.
    await fw.world.sim.idle();
    const killedWrites = fw.apiWrites();
    const before = await archivesAt(fw.world);
    const next = await fw.run();
    const problems = [
      ...(await healedProblems(fw, next)),
      ...(await lostArchives(fw.world, before)).map((l) => `lost: ${l}`),
      ...dumpedTwice(killedWrites).map((d) => `killed run dumped twice: ${d}`),
      ...dumpedTwice(fw.apiWrites().slice(killedWrites.length)).map(
        (d) => `next run dumped twice: ${d}`,
      ),
    ];
    return {
      kind,
      n,
      at,
      reached,
      killedRunExit: killed.signal ?? String(killed.code),
      nextRunExit: next.code,
      problems,
    };
  } finally {
    await fw.close();
  }
}

/** A markdown table of the points tried, for the log (and the closing note). */
export function faultTable(results: PointResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.kind} #${r.n} | ${r.at} | ${r.reached ? 'killed' : `not reached (${r.killedRunExit})`} | ${r.nextRunExit} | ${r.problems.length === 0 ? 'survived' : r.problems.join('; ')} |`,
  );
  return [
    '| point | write | killed run | next run exit | result |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
