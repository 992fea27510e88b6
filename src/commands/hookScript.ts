/**
 * `pve-ftp-backup hook`: prints the node hook script, the same for every node.
 * Reads no config and builds no logger (with `--config --node NAME` the command
 * is hookConfig.ts instead).
 */
import { ConfigError, ExitCode } from '../errors.js';
import { hookScript } from '../hook/script.js';
import type { HookOptions, PrintCommand } from './types.js';

/** `hook` without --config: the script, the same for every node (no config, no logger needed). */
export const hookScriptCommand: PrintCommand<HookOptions> = async (options, ctx) => {
  if (options.node !== undefined || options.caFile !== undefined) {
    throw new ConfigError('hook: --node and --ca-file go with --config (to print hook.conf)');
  }
  ctx.stdout.write(hookScript());
  return ExitCode.ok;
};
