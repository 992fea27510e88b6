#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * The command-line shell: yargs parses argv into the option objects of
 * commands/types.ts, and this file owns what only the entry point may own —
 * the run's Redactor and logger, the AbortControllers (first SIGINT: start
 * nothing new, let running backups finish; SIGTERM or a second SIGINT: stop
 * running tasks now, exit 130 within 15 s), the exit code, and the only
 * top-level catch. No logic: the command table (commandTable.ts) maps each
 * command to a lazily imported module, so `--help` or `hook` never load the
 * modules of `run` (winston, undici, zod, basic-ftp); only yargs and a few
 * small modules load up front.
 *
 * The shebang's --max-semi-space-size=1 keeps V8's young generation at 1 MiB
 * instead of growing it to 16: a run's heap stays ~20 MiB instead of ~32, and
 * the extra scavenges of a small heap cost nothing measurable (bench `pace`:
 * peak RSS 87 -> 75 MiB, CPU per guest unchanged). `env -S` splits the flag
 * from `node` (GNU coreutils >= 8.30, BSD and macOS env).
 */
// Before anything can open a connection: WebAssembly compiled lean (see leanRuntime.ts).
// A one-line module on node:v8, so the signal holder below still comes first in practice.
import './leanRuntime.js';
// Holds signals that arrive while the rest loads (see earlySignals.ts).
import type { Selected } from './commandTable.js';
import { takeEarlySignals } from './earlySignals.js';
import { ExitCode, errorMessage, exitCodeFor, InterruptedError } from './errors.js';
import type { Logger } from './log/logger.js';
import { Redactor, redactingStream } from './log/redact.js';

/** After SIGTERM (or a second SIGINT), the process exits at the latest this much later. */
const STOP_DEADLINE_MS = 14_000;

/** Runs the CLI; returns the exit code (tests call it, the bin sets process.exitCode). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const stop = new AbortController();
  const force = new AbortController();
  let interrupts = 0;
  let say: (line: string) => void = (line) => process.stderr.write(`pve-ftp-backup: ${line}\n`);
  /** Stop now: running tasks are stopped through the API, locks released, report written. */
  const stopNow = (why: string) => {
    if (!stop.signal.aborted) stop.abort(new InterruptedError(`interrupted by ${why}`));
    if (force.signal.aborted) return;
    force.abort(new InterruptedError(`${why}: stopping running tasks`));
    say(`${why}: stopping running vzdump tasks, releasing locks, exiting`);
    // The promise of SIGTERM: exit within 15 s (CI runners and Kubernetes kill soon after).
    // Normally the run ends well before; this is the last resort if something still hangs.
    setTimeout(() => {
      process.stderr.write(
        `pve-ftp-backup: ${why}: not finished ${STOP_DEADLINE_MS / 1000} s after the stop; exiting now (a node lock may stay behind; the next run heals it)\n`,
      );
      process.exit(ExitCode.interrupted);
    }, STOP_DEADLINE_MS).unref();
  };
  const onSignal = (name: NodeJS.Signals) => {
    // SIGTERM is a supervisor (systemd, cron's kill, CI, Kubernetes): it will not wait.
    if (name === 'SIGTERM') return stopNow('SIGTERM');
    interrupts++;
    if (interrupts === 1) {
      stop.abort(new InterruptedError(`interrupted by ${name}`));
      say(
        `${name}: starting nothing new; running backups finish and are verified. Press Ctrl-C again to stop them now.`,
      );
    } else if (interrupts === 2) stopNow(`second ${name}`);
    // A third one: the admin insists; leave now (locks may stay behind and are healed next run).
    else process.exit(ExitCode.interrupted);
  };

  const isTty = process.stderr.isTTY === true;
  // The run's secrets: the config's once loaded, the API client's tickets as they come.
  const redactor = new Redactor();
  let logger: Logger | undefined;
  let closeLogger: ((l: Logger) => Promise<void>) | undefined;
  // Listen from the first moment: a SIGTERM while modules load must still end in exit 130.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const early of takeEarlySignals()) onSignal(early);
  try {
    let selected: Selected | undefined;
    // Loaded after the signal handlers are in place (yargs alone takes ~100 ms to load).
    const { parser } = await import('./commandTable.js');
    const args = (await parser(argv, (s) => {
      selected = s;
    }).parseAsync()) as { verbose?: number; quiet?: boolean; logFile?: string };
    if (!selected) return ExitCode.ok; // --help or --version was printed
    const chosen: Selected = selected;
    // A signal that came while starting up: nothing was done yet, so nothing is started.
    if (stop.signal.aborted) throw stop.signal.reason;
    if (chosen.prints)
      return await chosen.run({ stdout: redactingStream(process.stdout, redactor) });
    const log = await import('./log/logger.js');
    closeLogger = log.closeLogger;
    const created = log.createLogger({
      level: log.levelFor({ verbose: args.verbose ?? 0, quiet: args.quiet ?? false }),
      stderr: process.stderr,
      isTty,
      color: isTty && !env.NO_COLOR,
      redactor,
      ...(args.logFile !== undefined ? { logFile: args.logFile } : {}),
    });
    logger = created;
    say = (line) => created.warn(line);
    return await chosen.run({
      stdout: chosen.printsSecrets ? process.stdout : redactingStream(process.stdout, redactor),
      stderr: log.loggerStderr(logger, process.stderr),
      signal: stop.signal,
      forceSignal: force.signal,
      logger,
      redactor,
      env,
      cwd: process.cwd(),
      isTty,
    });
  } catch (error) {
    const code = exitCodeFor(error, stop.signal.aborted);
    const message = redactor.redact(errorMessage(error));
    if (code !== undefined) {
      if (logger) logger.error(message);
      else process.stderr.write(`pve-ftp-backup: ${message}\n`);
      return code;
    }
    const log = await import('./log/logger.js');
    const bugLog =
      logger ?? log.createLogger({ level: 'info', stderr: process.stderr, isTty: false, redactor });
    bugLog.error(`internal error, please report: ${message}`);
    bugLog.debug('stack', { stack: error instanceof Error ? error.stack : undefined });
    if (!logger) await log.closeLogger(bugLog);
    // Not an error the user can act on: a bug, reported like a partial failure.
    return ExitCode.partialFailure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (logger && closeLogger) await closeLogger(logger);
  }
}

// Run when executed as the bin (not when a test imports main()).
const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:cli\.(?:js|ts)|pve-ftp-backup)$/.test(invokedAs)) {
  // argv after `node cli.js` (what yargs's hideBin does for a plain node bin, without loading yargs).
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // A stray handle (socket, timer) must not keep a cron job alive; unref'd, this never delays a clean exit.
    setTimeout(() => process.exit(code), 3000).unref();
  });
}
