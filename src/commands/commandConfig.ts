/**
 * The prologue every command that reads the config shares: find and load it,
 * hand its secrets to the run's redactor before anything can log them, and
 * log its warnings.
 */
import { type Config, configSecrets, loadConfig } from '../config/index.js';
import type { CommandContext } from './types.js';

/** Loads the config named by `-c` (or found on the search path) for a command. */
export async function loadCommandConfig(
  options: { config?: string },
  ctx: CommandContext,
): Promise<Config> {
  const { config, warnings } = await loadConfig({
    ...(options.config !== undefined ? { path: options.config } : {}),
    env: ctx.env,
    cwd: ctx.cwd,
  });
  ctx.redactor.add(...configSecrets(config));
  for (const w of warnings) ctx.logger.warn(w);
  return config;
}
