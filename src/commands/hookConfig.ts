/**
 * `pve-ftp-backup hook --config --node NAME`: that node's hook.conf rendered
 * from the tool's own config. The FTP password is in that output by design: it
 * is the file the admin installs on the node with mode 600 (the help says so).
 * The script itself is hookScript.ts.
 */
import { ConfigError, ExitCode } from '../errors.js';
import { renderHookConfig } from '../hook/config.js';
import { loadCommandConfig } from './commandConfig.js';
import type { Command, HookOptions } from './types.js';

/** `hook --config --node NAME`: that node's hook.conf. */
export const hookConfigCommand: Command<HookOptions> = async (options, ctx) => {
  if (options.node === undefined || options.node === '') {
    throw new ConfigError('hook --config needs --node NAME (each node gets its own hook.conf)');
  }
  const config = await loadCommandConfig(options, ctx);
  const { ftp } = config;
  if (ftp.secure && ftp.caPem !== undefined && options.caFile === undefined) {
    // The CA file named in the config is a path on this machine, not on the node.
    ctx.logger.warn(
      'ftp.ca is set: copy that certificate to the node and pass its path there with --ca-file, or curl on the node will not trust the NAS',
    );
  }
  ctx.stdout.write(
    renderHookConfig({
      node: options.node,
      ftp: {
        ...ftp,
        ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
      },
      storage: config.backup.storage,
      uploadAt: config.backup.uploadAt,
    }),
  );
  return ExitCode.ok;
};
