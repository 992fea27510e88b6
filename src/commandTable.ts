/**
 * The command table of the CLI: every command's name, options, examples and
 * the module that runs it (imported only when the command runs), and the
 * yargs parser built from it. Parsing selects a command; src/cli.ts runs it.
 */
import { readFileSync } from 'node:fs';
import yargs, { type ArgumentsCamelCase, type Argv } from 'yargs';
import type {
  Command,
  CommandContext,
  GlobalOptions,
  PrintCommand,
  PrintContext,
} from './commands/types.js';
import { AppError, ConfigError } from './errors.js';
import { hookInstallHelp } from './hook/help.js';
import { GUEST_STATE_FILTERS, VMID_MAX, VMID_MIN } from './vocabulary.js';

/** What the parse selected: a command to run with its options. */
export type Selected =
  /** Prints only (hook script, config schema): no logger is built for it. */
  | { prints: true; run: (ctx: PrintContext) => Promise<number> }
  | {
      prints: false;
      run: (ctx: CommandContext) => Promise<number>;
      /** Its stdout is a secret by design (`hook --config` prints hook.conf): not redacted. */
      printsSecrets?: boolean;
    };

/** Lazily imports a command module, so a missing or broken one fails only its own command. */
function lazy<O>(load: () => Promise<Command<O>>, options: O, printsSecrets = false): Selected {
  return { prints: false, run: async (ctx) => (await load())(options, ctx), printsSecrets };
}

/** Like {@link lazy}, for a command that only prints. */
function lazyPrint<O>(load: () => Promise<PrintCommand<O>>, options: O): Selected {
  return { prints: true, run: async (ctx) => (await load())(options, ctx) };
}

/** One row of the command table. */
interface CommandSpec<A> {
  command: string;
  describe: string;
  /** Options and examples; `select` is for subcommands (`config schema`). */
  builder: (y: Argv, select: (s: Selected) => void) => Argv<A>;
  /** The command to run; none for a group of subcommands. */
  select?: (args: ArgumentsCamelCase<A>) => Selected;
}

// The table holds rows of different argument types; each row is checked where it is written.
const row = <A>(spec: CommandSpec<A>) => spec as unknown as CommandSpec<unknown>;

function packageVersion(): string {
  // ../package.json from both src/ (tests) and dist/ (the installed bin).
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

/** `--vmid` values, parsed here (not by yargs, which turns `abc` into NaN) so errors quote what was typed. */
export function vmids(raw: unknown): number[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((v) => {
    const text = String(v);
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= VMID_MIN && n <= VMID_MAX)) {
      throw new ConfigError(
        `--vmid ${text}: expected a guest id (a whole number from ${VMID_MIN} to ${VMID_MAX})`,
      );
    }
    return n;
  });
}

const strings = (raw: unknown): string[] =>
  raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);

/** `--json`, on every command that has a report. */
const jsonOption = {
  type: 'boolean',
  default: false,
  describe: 'one JSON document on stdout',
} as const;

/** `-c FILE`, `--node NAME`..., `--json`: the options of every command that reads the config. */
function configuredCommand(y: Argv) {
  return y
    .option('config', {
      alias: 'c',
      type: 'string',
      requiresArg: true,
      describe:
        'config file (default: $PVE_FTP_BACKUP_CONFIG, ./pve-ftp-backup.yaml, $XDG_CONFIG_HOME/pve-ftp-backup/config.yaml, /etc/pve-ftp-backup/config.yaml)',
    })
    .option('node', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe: 'only this node (repeatable)',
    })
    .option('json', jsonOption);
}

/** The parsed options of {@link configuredCommand}, as the commands take them. */
function configuredOptions(a: {
  config?: string | undefined;
  node?: (string | number)[] | undefined;
  json: boolean;
}): GlobalOptions & { node: string[] } {
  return {
    ...(a.config !== undefined ? { config: a.config } : {}),
    json: a.json,
    node: strings(a.node),
  };
}

/** Every command: what it is called, its options and examples, and the module that runs it. */
const COMMANDS: CommandSpec<unknown>[] = [
  row({
    command: 'run',
    describe: 'back up the selected guests of every node, then rotate the generations on the NAS',
    builder: (y) =>
      configuredCommand(y)
        .option('vmid', {
          type: 'string',
          array: true,
          requiresArg: true,
          describe: 'only this guest, whatever its state (repeatable)',
        })
        .option('guests', {
          choices: GUEST_STATE_FILTERS,
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
        .example('$0 run -c /etc/pve-ftp-backup/config.yaml --log-file run.log -v', 'nightly cron'),
    select: (a) =>
      lazy(async () => (await import('./commands/run.js')).runCommand, {
        ...configuredOptions(a),
        vmid: vmids(a.vmid),
        ...(a.guests !== undefined ? { guests: a.guests } : {}),
        dryRun: a.dryRun,
        noRotate: !a.rotate,
        breakLock: a.breakLock,
      }),
  }),
  row({
    command: 'status',
    describe:
      'every guest and its newest saved copy on the NAS (coverage); exit 1 when one lacks a fresh copy',
    builder: (y) =>
      configuredCommand(y)
        .option('vmid', {
          type: 'string',
          array: true,
          requiresArg: true,
          describe: 'only this guest (repeatable)',
        })
        .option('guests', {
          choices: GUEST_STATE_FILTERS,
          describe: 'guest state that counts as selected (default: backup.guests)',
        })
        .option('max-age', {
          type: 'string',
          requiresArg: true,
          describe: 'a newest copy older than this is stale (default: status.maxAge, 26h)',
        })
        .option('html', {
          type: 'string',
          requiresArg: true,
          describe: 'also write a self-contained HTML status page to this file',
        })
        .example('$0 status', 'which guests lack a fresh copy (exit 1 if any)')
        .example('$0 status --max-age 50h --json', 'for a job that runs every other night, as JSON')
        .example('$0 status --node pve1 --vmid 101', 'one guest')
        .example('$0 status --html /var/www/backups.html', 'the page for the wall screen'),
    select: (a) =>
      lazy(async () => (await import('./commands/status.js')).statusCommand, {
        ...configuredOptions(a),
        vmid: vmids(a.vmid),
        ...(a.guests ? { guests: a.guests } : {}),
        ...(a.maxAge !== undefined ? { maxAge: a.maxAge } : {}),
        ...(a.html !== undefined ? { html: a.html } : {}),
      }),
  }),
  row({
    command: 'verify',
    describe: 'check the NAS against the manifests; --deep reads every archive back',
    builder: (y) =>
      configuredCommand(y)
        .option('vmid', {
          type: 'string',
          array: true,
          requiresArg: true,
          describe: 'only this guest (repeatable)',
        })
        .option('generation', {
          type: 'string',
          requiresArg: true,
          describe: 'daily.N, weekly.N, monthly.N or all (default)',
        })
        .option('deep', {
          type: 'boolean',
          default: false,
          describe: 'read each archive back: sha256, decompression, content',
        })
        .example('$0 verify', 'every file present with its size and checksum file')
        .example('$0 verify --deep --generation daily.0', 'read last night back')
        .example('$0 verify --deep --vmid 101 --json', "one guest's copies, as JSON"),
    select: (a) =>
      lazy(async () => (await import('./commands/verify.js')).verifyCommand, {
        ...configuredOptions(a),
        vmid: vmids(a.vmid),
        ...(a.generation !== undefined ? { generation: a.generation } : {}),
        deep: a.deep,
      }),
  }),
  row({
    command: 'restore',
    describe:
      'bring a saved copy back into the cluster: prints the node-side fetch command, waits for the archive, restores through the API',
    builder: (y) =>
      configuredCommand(y)
        .option('vmid', {
          type: 'string',
          requiresArg: true,
          describe: 'the guest whose copy to restore',
        })
        .option('from', {
          type: 'string',
          requiresArg: true,
          describe: 'the generation to restore from (default: the newest saved copy)',
        })
        .option('to-vmid', {
          type: 'string',
          requiresArg: true,
          describe: 'restore as this guest id (default: --vmid)',
        })
        .option('to-node', {
          type: 'string',
          requiresArg: true,
          describe: 'restore onto this node (default: --node)',
        })
        .option('storage', {
          type: 'string',
          requiresArg: true,
          describe: "storage for the restored disks (default: PVE's)",
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'overwrite an existing guest of that id (stopped, on the target node)',
        })
        .option('keep-archive', {
          type: 'boolean',
          default: false,
          describe: 'keep the staging copy after a successful restore',
        })
        .option('timeout', {
          type: 'string',
          requiresArg: true,
          describe: 'how long to wait for the fetched archive (default 30m)',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'read only: show what would be done',
        })
        .demandOption(['node', 'vmid'])
        .example(
          '$0 restore --node pve1 --vmid 101 --to-vmid 9101',
          'the newest copy, as a new guest',
        )
        .example(
          '$0 restore --node pve1 --vmid 101 --from daily.3 --force',
          'an older copy over the stopped guest',
        )
        .example(
          '$0 restore --node pve1 --vmid 101 --to-node pve2 --dry-run',
          'what would be done',
        ),
    select: (a) => {
      const { node, ...common } = configuredOptions(a);
      if (node.length !== 1)
        throw new ConfigError('--node: give exactly one node (the copy’s tree)');
      const [vmid, ...more] = vmids(a.vmid);
      if (vmid === undefined || more.length > 0)
        throw new ConfigError('--vmid: give exactly one guest');
      const toVmid = a.toVmid === undefined ? undefined : vmids(a.toVmid)[0];
      return lazy(async () => (await import('./commands/restore.js')).restoreCommand, {
        ...common,
        node: node[0]!,
        vmid,
        ...(a.from !== undefined ? { from: a.from } : {}),
        ...(toVmid !== undefined ? { toVmid } : {}),
        ...(a.toNode !== undefined ? { toNode: a.toNode } : {}),
        ...(a.storage !== undefined ? { storage: a.storage } : {}),
        force: a.force,
        keepArchive: a.keepArchive,
        ...(a.timeout !== undefined ? { timeout: a.timeout } : {}),
        dryRun: a.dryRun,
      });
    },
  }),
  row({
    command: 'doctor',
    describe:
      'preflight: API, TLS, privileges, staging storage, hook, NAS (writable, locks); exit 1 when a check fails',
    builder: (y) =>
      configuredCommand(y)
        .option('restore', {
          type: 'boolean',
          default: false,
          describe: 'also check the privileges a restore needs (VM.Allocate, SDN.Use, Sys.Modify)',
        })
        .example('$0 doctor', 'every cluster, node and the NAS')
        .example('$0 doctor --node pve1 --json', 'one node, as JSON')
        .example('$0 doctor -c restore.yaml --restore', "the restore token's privileges too"),
    select: (a) =>
      lazy(async () => (await import('./commands/doctor.js')).doctorCommand, {
        ...configuredOptions(a),
        restore: a.restore,
      }),
  }),
  row({
    command: 'list',
    describe: 'guests per node, with their state and what run would do',
    builder: (y) =>
      configuredCommand(y)
        .example('$0 list', 'every node')
        .example('$0 list --node pve1 --json', 'one node, as JSON'),
    select: (a) =>
      lazy(async () => (await import('./commands/list.js')).listCommand, configuredOptions(a)),
  }),
  row({
    command: 'generations',
    describe: 'what is on the NAS, per node and generation',
    builder: (y) =>
      configuredCommand(y)
        .example('$0 generations', 'every node')
        .example('$0 generations --node pve1 --json', 'one node, as JSON'),
    select: (a) =>
      lazy(
        async () => (await import('./commands/generations.js')).generationsCommand,
        configuredOptions(a),
      ),
  }),
  row({
    command: 'hook',
    describe: "print the node hook script, or with --config --node NAME that node's hook.conf",
    builder: (y) =>
      y
        // Here --config is the switch of docs/contract.md#commands; the file is given with -c only.
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
        .epilog(hookInstallHelp),
    select: (a) => {
      const options = {
        ...(a.c !== undefined ? { config: a.c } : {}),
        printConfig: a.config,
        ...(a.node !== undefined ? { node: a.node } : {}),
        ...(a.caFile !== undefined ? { caFile: a.caFile } : {}),
      };
      return a.config
        ? lazy(
            async () => (await import('./commands/hookConfig.js')).hookConfigCommand,
            options,
            true,
          )
        : lazyPrint(
            async () => (await import('./commands/hookScript.js')).hookScriptCommand,
            options,
          );
    },
  }),
  row({
    command: 'config',
    describe: 'configuration helpers',
    builder: (y, select) =>
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
              lazyPrint(
                async () => (await import('./commands/configSchema.js')).configSchemaCommand,
                {},
              ),
            ),
        )
        .demandCommand(1, 'config: name a subcommand (schema)'),
  }),
  row({
    command: 'demo',
    describe: 'a real run against an embedded simulated cluster and FTP server',
    builder: (y) =>
      y
        .option('json', jsonOption)
        .example('$0 demo', 'see what a nightly run does, touching nothing real'),
    select: (a) =>
      lazy(async () => (await import('./commands/demo.js')).demoCommand, { json: a.json }),
  }),
];

/** Builds the parser; `select` receives the chosen command. */
export function parser(argv: string[], select: (s: Selected) => void): Argv {
  let cli = yargs(argv)
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
    .check((a) => !(a.quiet && (a.verbose ?? 0) > 0) || '-q and -v exclude each other');
  for (const spec of COMMANDS) {
    const chosen = spec.select;
    cli = cli.command(
      spec.command,
      spec.describe,
      (y) => spec.builder(y, select),
      chosen ? (a) => select(chosen(a)) : undefined,
    );
  }
  return cli
    .demandCommand(
      1,
      'name a command (run, status, doctor, list, generations, hook, config schema, demo)',
    )
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
}
