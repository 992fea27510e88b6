#!/usr/bin/env node
/**
 * The command-line shell: yargs parses argv into the option objects of
 * commands/types.ts, and this file owns what only the entry point may own —
 * the logger, the AbortControllers (first SIGINT/SIGTERM: start nothing new;
 * second: stop running tasks), the exit code, and the only top-level catch.
 * No logic: commands are imported lazily and do the work.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { Command, CommandContext } from './commands/types.js';
import { AppError, ConfigError, ExitCode, errorMessage, InterruptedError } from './errors.js';
import {
  closeLogger,
  createLogger,
  type Logger,
  levelFor,
  loggerStderr,
  redactingStream,
} from './log.js';

/** What the parse selected: a command to run with its options. */
interface Selected {
  run: (ctx: CommandContext) => Promise<number>;
  /** Its stdout is a secret by design (`hook --config` prints hook.conf): not redacted. */
  printsSecrets?: boolean;
}

function packageVersion(): string {
  // ../package.json from both src/ (tests) and dist/ (the installed bin).
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

const GUESTS = ['running', 'stopped', 'all'] as const;

/** `--vmid` values, parsed here (not by yargs, which turns `abc` into NaN) so errors quote what was typed. */
function vmids(raw: unknown): number[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((v) => {
    const text = String(v);
    const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 100)) {
      throw new ConfigError(
        `--vmid ${text}: expected a guest id (a whole number from 100 to 999999999)`,
      );
    }
    return n;
  });
}

const strings = (raw: unknown): string[] =>
  raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);

/** Lazily imports a command module, so a missing or broken one fails only its own command. */
function lazy<O>(load: () => Promise<Command<O>>, options: O): Selected {
  return { run: async (ctx) => (await load())(options, ctx) };
}

function configOption<T>(y: Argv<T>) {
  return y.option('config', {
    alias: 'c',
    type: 'string',
    requiresArg: true,
    describe:
      'config file (default: $PVE_FTP_BACKUP_CONFIG, ./pve-ftp-backup.yaml, $XDG_CONFIG_HOME/pve-ftp-backup/config.yaml, /etc/pve-ftp-backup/config.yaml)',
  });
}

function nodeOption<T>(y: Argv<T>) {
  return y.option('node', {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'only this node (repeatable)',
  });
}

function jsonOption<T>(y: Argv<T>) {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: 'one JSON document on stdout',
  });
}

/** Builds the parser; `select` receives the chosen command. */
function parser(argv: string[], select: (s: Selected) => void, hookHelp: string): Argv {
  const cli = yargs(argv)
    .scriptName('pve-ftp-backup')
    .usage('$0 <command> [options]\n\nBack up Proxmox VE guests to an FTP NAS.')
    .option('verbose', { alias: 'v', type: 'count', describe: 'more log lines (-vv: debug)' })
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      default: false,
      describe: 'warnings and errors only',
    })
    .option('log-file', {
      type: 'string',
      requiresArg: true,
      describe: 'also write JSON log lines to FILE',
    })
    .check((a) => !(a.quiet && (a.verbose ?? 0) > 0) || '-q and -v exclude each other')
    .command(
      'run',
      'back up the selected guests of every node, then rotate the generations on the NAS',
      (y) =>
        jsonOption(nodeOption(configOption(y)))
          .option('vmid', {
            type: 'string',
            array: true,
            requiresArg: true,
            describe: 'only this guest, whatever its state (repeatable)',
          })
          .option('guests', {
            choices: GUESTS,
            describe: 'guest state to select (default: backup.guests)',
          })
          .option('dry-run', {
            type: 'boolean',
            default: false,
            describe: 'read only: show what would be done',
          })
          .option('rotate', {
            type: 'boolean',
            default: true,
            describe: 'rotate generations afterwards (--no-rotate: leave them)',
          })
          .option('break-lock', {
            type: 'boolean',
            default: false,
            describe: "clear a node's NAS lock left by another run",
          })
          .example('$0 run', 'running containers of every node')
          .example('$0 run --node pve1 --vmid 101 --vmid 102', 'two guests of pve1, running or not')
          .example('$0 run --dry-run --json', 'what would be done, as JSON')
          .example(
            '$0 run -c /etc/pve-ftp-backup/config.yaml --log-file run.log -v',
            'nightly cron',
          ),
      (a) =>
        select(
          lazy(async () => (await import('./commands/run.js')).runCommand, {
            ...(a.config !== undefined ? { config: a.config } : {}),
            json: a.json,
            node: strings(a.node),
            vmid: vmids(a.vmid),
            ...(a.guests !== undefined ? { guests: a.guests } : {}),
            dryRun: a.dryRun,
            noRotate: !a.rotate,
            breakLock: a.breakLock,
          }),
        ),
    )
    .command(
      'list',
      'guests per node, with their state and what run would do',
      (y) =>
        jsonOption(nodeOption(configOption(y)))
          .example('$0 list', 'every node')
          .example('$0 list --node pve1 --json', 'one node, as JSON'),
      (a) =>
        select(
          lazy(async () => (await import('./commands/list.js')).listCommand, {
            ...(a.config !== undefined ? { config: a.config } : {}),
            json: a.json,
            node: strings(a.node),
          }),
        ),
    )
    .command(
      'generations',
      'what is on the NAS, per node and generation',
      (y) =>
        jsonOption(nodeOption(configOption(y)))
          .example('$0 generations', 'every node')
          .example('$0 generations --node pve1 --json', 'one node, as JSON'),
      (a) =>
        select(
          lazy(async () => (await import('./commands/generations.js')).generationsCommand, {
            ...(a.config !== undefined ? { config: a.config } : {}),
            json: a.json,
            node: strings(a.node),
          }),
        ),
    )
    .command(
      'hook',
      "print the node hook script, or with --config --node NAME that node's hook.conf",
      (y) =>
        y
          // Here --config is the switch of DESIGN.md; the file is given with -c only.
          .option('c', {
            type: 'string',
            requiresArg: true,
            describe: 'config file (see run --help)',
          })
          .option('config', {
            type: 'boolean',
            default: false,
            describe: "print the node's hook.conf instead of the script",
          })
          .option('node', {
            type: 'string',
            requiresArg: true,
            describe: 'the node whose hook.conf to print',
          })
          .option('ca-file', {
            type: 'string',
            requiresArg: true,
            describe: 'path ON THE NODE of the FTPS CA certificate',
          })
          .example('$0 hook > hook.sh', 'the script, once for all nodes')
          .example(
            '$0 hook --config --node pve1 > hook.conf',
            "pve1's hook.conf: it holds the FTP password; install it with mode 600",
          )
          .epilog(hookHelp),
      (a) =>
        select({
          ...lazy(async () => (await import('./commands/hook.js')).hookCommand, {
            ...(a.c !== undefined ? { config: a.c } : {}),
            printConfig: a.config,
            ...(a.node !== undefined ? { node: a.node } : {}),
            ...(a.caFile !== undefined ? { caFile: a.caFile } : {}),
          }),
          printsSecrets: a.config,
        }),
    )
    .command('config', 'configuration helpers', (y) =>
      y
        .command(
          'schema',
          "print the config file's JSON Schema (for editors), derived from the validator",
          (z) =>
            z.example(
              '$0 config schema > pve-ftp-backup.schema.json',
              'for a YAML language server',
            ),
          () =>
            select(
              lazy(
                async () => (await import('./commands/configSchema.js')).configSchemaCommand,
                {},
              ),
            ),
        )
        .demandCommand(1, 'config: name a subcommand (schema)'),
    )
    .command(
      'demo',
      'a real run against an embedded simulated cluster and FTP server',
      (y) => jsonOption(y).example('$0 demo', 'see what a nightly run does, touching nothing real'),
      (a) =>
        select(
          lazy(async () => (await import('./commands/demo.js')).demoCommand, { json: a.json }),
        ),
    )
    .demandCommand(1, 'name a command (run, list, generations, hook, config schema, demo)')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // Our own ConfigErrors (e.g. --vmid) pass through; yargs' messages become usage errors.
      if (err instanceof AppError) throw err;
      throw new ConfigError(`${msg ?? err?.message ?? 'usage error'}\n(see pve-ftp-backup --help)`);
    });
  return cli;
}

/** PveAuthError/PveTlsError are not AppErrors (the client stays independent): nothing could be done → 3. */
async function exitCodeOf(error: unknown, signal: AbortSignal): Promise<number> {
  if (error instanceof AppError) return error.exitCode;
  const { PveAuthError, PveTlsError } = await import('./pveApi/errors.js');
  if (error instanceof PveAuthError || error instanceof PveTlsError) return ExitCode.nothingDone;
  if (signal.aborted && (error as { name?: unknown })?.name === 'AbortError')
    return ExitCode.interrupted;
  return -1;
}

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
  let logger: Logger | undefined;
  try {
    let selected: Selected | undefined;
    const { hookInstallHelp } = await import('./hook/index.js').catch(() => ({
      hookInstallHelp: '',
    }));
    const args = (await parser(
      argv,
      (s) => {
        selected = s;
      },
      hookInstallHelp,
    ).parseAsync()) as { verbose?: number; quiet?: boolean; logFile?: string };
    if (!selected) return ExitCode.ok; // --help or --version was printed
    logger = createLogger({
      level: levelFor({ verbose: args.verbose ?? 0, quiet: args.quiet ?? false }),
      stderr: process.stderr,
      isTty,
      color: isTty && !env.NO_COLOR,
      ...(args.logFile !== undefined ? { logFile: args.logFile } : {}),
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const chosen: Selected = selected;
    return await chosen.run({
      stdout: chosen.printsSecrets ? process.stdout : redactingStream(process.stdout),
      stderr: loggerStderr(logger, process.stderr),
      signal: stop.signal,
      forceSignal: force.signal,
      logger,
      env,
      cwd: process.cwd(),
      isTty,
    });
  } catch (error) {
    const code = await exitCodeOf(error, stop.signal);
    const message = errorMessage(error);
    if (code >= 0) {
      if (logger) logger.error(message);
      else process.stderr.write(`pve-ftp-backup: ${message}\n`);
      return code;
    }
    const log = logger ?? createLogger({ level: 'info', stderr: process.stderr, isTty: false });
    log.error(`internal error, please report: ${message}`);
    log.debug('stack', { stack: error instanceof Error ? error.stack : undefined });
    if (!logger) await closeLogger(log);
    return ExitCode.partialFailure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (logger) await closeLogger(logger);
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
