/**
 * `npm run bench`: the orchestrator against the simulator (fixed task
 * durations, the real hook uploading to the embedded FTP server), each in its
 * own process. Prints a table of: makespan vs the ideal bound, task-end
 * detection delay and poll rate, peak RSS and CPU per guest, and a large
 * 100 × 20 run. Environment knobs: BENCH_TASK_MS (default 3000),
 * BENCH_ONLY (comma list of scenario names), BENCH_BIG_MB (default 1024),
 * BENCH_NODE_FLAGS (more flags for the orchestrator's node, after the bin's own: see binFlags.ts),
 * BENCH_NIGHT_TASK_MS (default 1700, the `night` comparison with the cron + lftp script),
 * BENCH_NIGHT_GUESTS (default 8), BENCH_NAS_DELAY_MS (the night's FTP control connection held
 * that long each way, a NAS on a LAN instead of loopback; default 0),
 * BENCH_TIMELINE=FILE (the night's API requests and task ends), BENCH_FTPLOG=FILE (its FTP command lines).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorldOptions } from '../src/demo/world.js';
import type { SimNode } from '../src/sim/index.js';
import { ensurePackageLinks } from './links.js';
import { median, percentile, type RequestRecord, type TaskRecord, taskFigures } from './metrics.js';
import { formatNight, nightComparison } from './night.js';
import { runOrchestrator } from './orchestratorProcess.js';

const MiB = 1024 * 1024;
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

function nodes(count: number, guests: number, size: number): SimNode[] {
  return Array.from({ length: count }, (_, n) => ({
    name: `pve${n + 1}`,
    guests: Array.from({ length: guests }, (_, g) => ({
      vmid: (n + 1) * 1000 + g + 1,
      type: 'lxc' as const,
      name: `ct${g + 1}`,
      status: 'running' as const,
      archiveSize: size,
    })),
  }));
}

/** Read JSON lines from a child's stdout. */
function lines(child: ChildProcess): AsyncIterator<string> {
  let buffer = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      queue.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
    wake?.();
  });
  child.on('close', () => {
    ended = true;
    wake?.();
  });
  return {
    async next() {
      while (queue.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const value = queue.shift();
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
  };
}

async function scenario(
  name: string,
  world: WorldOptions,
  parallelNodes: number,
  timeoutMs: number,
) {
  const worldProc = spawn(process.execPath, [here('world.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  worldProc.stdin?.write(`${JSON.stringify(world)}\n`);
  const worldOut = lines(worldProc);
  const killer = setTimeout(() => worldProc.kill('SIGKILL'), timeoutMs + 60_000);
  try {
    const ready = JSON.parse((await worldOut.next()).value ?? '{}') as {
      configPath: string;
      env: Record<string, string>;
      tmp: string;
    };
    const { result, raw } = await runOrchestrator(
      { configPath: ready.configPath, cwd: ready.tmp },
      ready.env,
      timeoutMs,
    );
    // BENCH_RAW=1: the orchestrator's own figures (memoryUsage at the end, CPU split) on stderr.
    if (process.env.BENCH_RAW) process.stderr.write(`orchestrator: ${raw}\n`);
    worldProc.stdin?.write('dump\n');
    const dump = JSON.parse((await worldOut.next()).value ?? '{}') as {
      tasks: TaskRecord[];
      requests: RequestRecord[];
    };
    worldProc.stdin?.write('close\n');
    return { name, parallelNodes, result, figures: taskFigures(dump.tasks, dump.requests) };
  } finally {
    clearTimeout(killer);
    worldProc.stdin?.end();
  }
}

await ensurePackageLinks();
const taskMs = Number(process.env.BENCH_TASK_MS ?? 3000);
const bigMiB = Number(process.env.BENCH_BIG_MB ?? 1024);
const only = process.env.BENCH_ONLY?.split(',');
const fast = { retries: 1, retry_delay: 1 };
const all: [string, () => Promise<Awaited<ReturnType<typeof scenario>>>][] = [
  [
    'pace',
    () =>
      scenario(
        'pace 1x8',
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(1, 8, 1 * MiB),
          backupDurationMs: taskMs,
          hookTuning: fast,
          backup: { parallelNodes: 1 },
        },
        1,
        8 * taskMs + 120_000,
      ),
  ],
  [
    'makespan',
    () =>
      scenario(
        'makespan 3x10',
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(3, 10, 1 * MiB),
          backupDurationMs: taskMs,
          hookTuning: fast,
          backup: { parallelNodes: 3 },
        },
        3,
        10 * taskMs * 3 + 120_000,
      ),
  ],
  [
    'rss150',
    () =>
      scenario(
        'rss 3x50 10MiB',
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(3, 50, 10 * MiB),
          backupDurationMs: 100,
          hookTuning: fast,
          backup: { parallelNodes: 3 },
        },
        3,
        600_000,
      ),
  ],
  [
    'small',
    () =>
      scenario(
        'rss 3x2 10MiB',
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(3, 2, 10 * MiB),
          backupDurationMs: 100,
          hookTuning: fast,
          backup: { parallelNodes: 3 },
        },
        3,
        300_000,
      ),
  ],
  [
    'big',
    () =>
      scenario(
        `rss 3x2 ${bigMiB}MiB`,
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(3, 2, bigMiB * MiB),
          backupDurationMs: 100,
          hookTuning: { ...fast, stall_timeout: 60 },
          backup: { parallelNodes: 3 },
        },
        3,
        1_200_000,
      ),
  ],
  [
    'wide',
    () =>
      scenario(
        'wide 100x20',
        {
          flavour: '9.1',
          auth: 'token',
          nodes: nodes(100, 20, 4096),
          backupDurationMs: 20,
          hookTuning: fast,
          backup: { parallelNodes: 16 },
        },
        16,
        1_800_000,
      ),
  ],
];

if (!only || only.includes('night')) {
  // The issue #11 table: one night beside the classic cron + lftp script.
  const nightTaskMs = Number(process.env.BENCH_NIGHT_TASK_MS ?? 1700);
  const nightGuests = Number(process.env.BENCH_NIGHT_GUESTS ?? 8);
  const nasDelayMs = Number(process.env.BENCH_NAS_DELAY_MS ?? 0);
  process.stderr.write('bench: night (vs cron + lftp) ...\n');
  const night = await nightComparison(nightTaskMs, nightGuests, nasDelayMs);
  process.stdout.write(`${formatNight(night, nightTaskMs, nightGuests, nasDelayMs)}\n`);
}

const rows: string[][] = [
  [
    'scenario',
    'guests',
    'saved',
    'exit',
    'makespan s',
    'bound s',
    'ratio',
    'detect p50/p90 ms',
    'gap p50 ms',
    'req/s/task max',
    'peak RSS MB',
    'run RSS MB',
    'CPU ms/guest',
  ],
];
for (const [key, run] of all) {
  if (only && !only.includes(key)) continue;
  const t0 = Date.now();
  process.stderr.write(`bench: ${key} ...\n`);
  const s = await run();
  const r = s.result;
  const guests = r.summary?.guestsSelected ?? 0;
  const f = s.figures;
  rows.push([
    s.name,
    String(guests),
    String(r.summary?.saved ?? '?'),
    String(r.exitCode),
    (r.wallMs / 1000).toFixed(1),
    (f.boundMs / 1000).toFixed(1),
    f.boundMs > 0 ? (r.wallMs / f.boundMs).toFixed(3) : '-',
    `${median(f.detectionMs).toFixed(0)}/${percentile(f.detectionMs, 90).toFixed(0)}`,
    median(f.gapMs).toFixed(0),
    f.requestsPerSecond.length ? Math.max(...f.requestsPerSecond).toFixed(2) : '-',
    (r.maxRssKiB / 1024).toFixed(0),
    (r.runPeakRssKiB / 1024).toFixed(0),
    guests ? ((r.cpuUserMs + r.cpuSystemMs) / guests).toFixed(1) : '-',
  ]);
  const failed = r.guests?.filter((g) => g.outcome !== 'saved') ?? [];
  if (failed.length > 0)
    process.stderr.write(`  ${failed.length} not saved, e.g. ${JSON.stringify(failed[0])}\n`);
  process.stderr.write(`bench: ${key} done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
for (const row of rows) {
  process.stdout.write(`${row.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')}\n`);
}
process.stdout.write(
  `\nmakespan target: <= bound x 1.02 + 1 s; detection target: median <= 1000 ms at <= 1 request/s per task; RSS target <= 80 MB, flat in archive size.\npeak RSS = process maxRSS (includes compiling the modules at start); run RSS = highest RSS during the run, read from outside (/proc) every 100 ms.\n`,
);
// ftp-srv (the embedded NAS) keeps a passive-mode listener and its socket per data connection
// after close() (seen with process.getActiveResourcesInfo()); they would keep the bench alive.
process.exit(0);
