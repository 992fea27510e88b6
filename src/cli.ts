#!/usr/bin/env node
/**
 * The command-line shell: yargs parses argv into the option objects of
 * commands/types.ts, and this file owns what only the entry point may own —
 * the run's Redactor and logger, the AbortControllers (first SIGINT/SIGTERM:
 * start nothing new; second: stop running tasks), the exit code, and the only
 * top-level catch. No logic: the command table (commandTable.ts) maps each
 * command to a lazily imported module, so `--help` or `hook` never load the
 * modules of `run` (winston, undici, zod, basic-ftp); only yargs and a few
 * small modules load up front.
 */
import { hideBin } from 'yargs/helpers';
import { parser, type Selected } from './commandTable.js';
import { ExitCode, errorMessage, exitCodeFor, InterruptedError } from './errors.js';
import type { Logger } from './log/logger.js';
import { Redactor, redactingStream } from './log/redact.js';

/** Runs the CLI; returns the exit code (tests call it, the bin sets process.exitCode). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const stop = new AbortController();
  const force = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) stop.abort(new InterruptedError(`interrupted by ${name}`));
    else if (signals === 2)
      force.abort(new InterruptedError(`interrupted twice (${name}): stopping running tasks`));
    // A third one: the admin insists; leave now (locks may stay behind and are reported next run).
    else process.exit(ExitCode.interrupted);
  };

  const isTty = process.stderr.isTTY === true;
  // The run's secrets: the config's once loaded, the API client's tickets as they come.
  const redactor = new Redactor();
  let logger: Logger | undefined;
  let closeLogger: ((l: Logger) => Promise<void>) | undefined;
  try {
    let selected: Selected | undefined;
    const args = (await parser(argv, (s) => {
      selected = s;
    }).parseAsync()) as { verbose?: number; quiet?: boolean; logFile?: string };
    if (!selected) return ExitCode.ok; // --help or --version was printed
    const chosen: Selected = selected;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (chosen.prints)
      return await chosen.run({ stdout: redactingStream(process.stdout, redactor) });
    const log = await import('./log/logger.js');
    closeLogger = log.closeLogger;
    logger = log.createLogger({
      level: log.levelFor({ verbose: args.verbose ?? 0, quiet: args.quiet ?? false }),
      stderr: process.stderr,
      isTty,
      color: isTty && !env.NO_COLOR,
      redactor,
      ...(args.logFile !== undefined ? { logFile: args.logFile } : {}),
    });
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
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
    // A stray handle (socket, timer) must not keep a cron job alive; unref'd, this never delays a clean exit.
    setTimeout(() => process.exit(code), 3000).unref();
  });
}
