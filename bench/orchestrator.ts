/**
 * Bench helper process: the orchestrator alone — the real `run` command code
 * (config load, inventory, plan, node pool, NAS) in this process, so that
 * process.resourceUsage() is the orchestrator's peak RSS and CPU time.
 * argv[2] = JSON { configPath, cwd, vmids? }; the secrets come in the environment.
 * stdout: `started` when the run starts, then one JSON line of figures at its end.
 * Spawned by bench/orchestratorProcess.ts.
 */
// As cli.ts does, before anything connects (and the shebang's flags come from binFlags.ts).
import '../src/leanRuntime.js';
import { Writable } from 'node:stream';
import { executeRun } from '../src/commands/run.js';
import { createLogger, Redactor } from '../src/log.js';
import type { OrchestratorInput } from './orchestratorProcess.js';

const input = JSON.parse(process.argv[2] ?? '{}') as OrchestratorInput;
const sink = new Writable({ write: (_c, _e, cb) => cb() });
// The logger `run` makes under cron (no -v, no TTY, no --log-file): its cost is the tool's too.
const redactor = new Redactor();
const logger = createLogger({ level: 'info', stderr: sink, isTty: false, redactor });
// The bench (bench/orchestratorProcess.ts) samples this process's RSS from outside from here
// on, so that the sampling costs this process nothing.
process.stdout.write('started\n');
const t0 = performance.now();
const result = await executeRun(
  {
    config: input.configPath,
    json: false,
    node: [],
    vmid: input.vmids ?? [],
    dryRun: false,
    noRotate: false,
    breakLock: false,
  },
  {
    stdout: sink,
    stderr: sink,
    signal: new AbortController().signal,
    forceSignal: new AbortController().signal,
    logger,
    redactor,
    env: process.env,
    cwd: input.cwd,
    isTty: false,
  },
);
const wallMs = performance.now() - t0;
const usage = process.resourceUsage();
const summary = result.report?.summary;
process.stdout.write(
  `${JSON.stringify({
    exitCode: result.exitCode,
    wallMs,
    maxRssKiB: usage.maxRSS,
    memory: process.memoryUsage(),
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
    summary,
    guests: result.report?.nodes.flatMap((n) =>
      n.guests.map((g) => ({ node: n.node, vmid: g.vmid, outcome: g.outcome, error: g.error })),
    ),
  })}\n`,
);
