/** `pve-ftp-backup config schema`: the config's JSON Schema, derived from the validator. */
import { configJsonSchema } from '../config/index.js';
import type { CommandContext } from './types.js';

/** Prints the JSON Schema of the configuration file on stdout. */
export async function configSchemaCommand(_options: object, ctx: CommandContext): Promise<number> {
  ctx.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return 0;
}
