/**
 * `pve-ftp-backup hook`: prints the node hook script, or with `--config --node
 * NAME` that node's hook.conf rendered from the tool's own config. The FTP
 * password is in that output by design: it is the file the admin installs on
 * the node with mode 600 (the help says so).
 */
import { configSecrets, loadConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { addSecrets } from '../log.js';
import type { Command, HookOptions } from './types.js';

/** `hook` as called by cli.ts. */
export const hookCommand: Command<HookOptions> = async (options, ctx) => {
  const hook = await import('../hook/index.js');
  if (!options.printConfig) {
    if (options.node !== undefined || options.caFile !== undefined) {
      throw new ConfigError('hook: --node and --ca-file go with --config (to print hook.conf)');
    }
    ctx.stdout.write(hook.hookScript());
    return 0;
  }
  if (options.node === undefined || options.node === '') {
    throw new ConfigError('hook --config needs --node NAME (each node gets its own hook.conf)');
  }
  const { config, warnings } = await loadConfig({
    ...(options.config !== undefined ? { path: options.config } : {}),
    env: ctx.env,
    cwd: ctx.cwd,
  });
  addSecrets(...configSecrets(config));
  for (const w of warnings) ctx.logger.warn(w);
  const { ftp } = config;
  if (ftp.secure && ftp.caPem !== undefined && options.caFile === undefined) {
    // The CA file named in the config is a path on this machine, not on the node.
    ctx.logger.warn(
      'ftp.ca is set: copy that certificate to the node and pass its path there with --ca-file, or curl on the node will not trust the NAS',
    );
  }
  ctx.stdout.write(
    hook.renderHookConfig({
      node: options.node,
      ftp: {
        ...ftp,
        ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
      },
      storage: config.backup.storage,
      uploadAt: config.backup.uploadAt,
    }),
  );
  return 0;
};
