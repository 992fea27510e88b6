/**
 * Runs bench/orchestrator.ts (the real `run` code) in a process of its own,
 * with the installed bin's node flags, and watches its memory from outside.
 *
 * Every 100 ms from the orchestrator's `started` line to its result, this
 * (the bench's) process reads the orchestrator's resident set and CPU time
 * from /proc/PID/status and /proc/PID/stat. From outside, so that measuring
 * costs the measured process nothing: a sampling timer inside woke it ten
 * times a second. The CPU samples, set against the simulator's request times
 * (both Date.now()), give the CPU of a stretch of the night (bench/night.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { binNodeFlags } from './binFlags.js';

export interface OrchestratorInput {
  configPath: string;
  cwd: string;
  /** `--vmid`: only these guests (default all). */
  vmids?: number[];
}

export interface OrchestratorResult {
  exitCode: number;
  wallMs: number;
  /** The kernel's peak RSS of the whole process, module loading included. */
  maxRssKiB: number;
  /** The highest RSS seen during the run itself (sampled from outside); 0 where /proc is not readable. */
  runPeakRssKiB: number;
  /** The process's CPU time (user + system, ms) at Date.now() `at`, every 100 ms of the run. */
  cpuSamples: CpuSample[];
  cpuUserMs: number;
  cpuSystemMs: number;
  memory: NodeJS.MemoryUsage;
  summary?: { saved: number; failed: number; guestsSelected: number };
  guests?: { node: string; vmid: number; outcome: string; error?: string }[];
}

export interface CpuSample {
  at: number;
  cpuMs: number;
}

const SAMPLE_MS = 100;
/** /proc reports CPU time in clock ticks of 1/100 s (USER_HZ, fixed for /proc on Linux). */
const TICK_MS = 10;

/** VmRSS of a process in KiB, or undefined when it cannot be read (gone, not Linux). */
function residentKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms, or undefined when it cannot be read. */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * The CPU time (ms) spent between two Date.now() instants, interpolated between the samples
 * around each; undefined when the samples do not cover both.
 */
export function cpuBetween(samples: CpuSample[], from: number, to: number): number | undefined {
  const at = (t: number): number | undefined => {
    const i = samples.findIndex((s) => s.at >= t);
    if (i < 1) return undefined;
    const a = samples[i - 1]!;
    const b = samples[i]!;
    return a.cpuMs + ((b.cpuMs - a.cpuMs) * (t - a.at)) / (b.at - a.at);
  };
  const start = at(from);
  const end = at(to);
  return start === undefined || end === undefined ? undefined : end - start;
}

/**
 * One orchestrator run. The secrets travel in `env` (the config's ${VAR}s), never in argv.
 * Killed after `timeoutMs`; rejects when it ends without a result line.
 */
export async function runOrchestrator(
  input: OrchestratorInput,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ result: OrchestratorResult; raw: string }> {
  const child = spawn(
    process.execPath,
    [
      ...binNodeFlags(),
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      fileURLToPath(new URL('orchestrator.js', import.meta.url)),
      JSON.stringify(input),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let peakKiB = 0;
  const cpuSamples: CpuSample[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const sample = () => {
    if (child.pid === undefined) return;
    const kib = residentKiB(child.pid);
    if (kib !== undefined && kib > peakKiB) peakKiB = kib;
    const cpuMs = cpuMsOf(child.pid);
    if (cpuMs !== undefined) cpuSamples.push({ at: Date.now(), cpuMs });
  };
  let buffer = '';
  let raw: string | undefined;
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line === 'started') {
        sample();
        sampler = setInterval(sample, SAMPLE_MS);
      } else if (raw === undefined) {
        // Written just before the process ends: one last look at its memory.
        sample();
        clearInterval(sampler);
        raw = line;
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  clearTimeout(killer);
  clearInterval(sampler);
  if (raw === undefined) throw new Error('the orchestrator ended without a result line');
  const result = {
    ...(JSON.parse(raw) as OrchestratorResult),
    runPeakRssKiB: peakKiB,
    cpuSamples,
  };
  return { result, raw };
}
