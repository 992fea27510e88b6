/** `pve-ftp-backup config schema`: the config's JSON Schema, derived from the validator. */
import { configJsonSchema } from '../config/jsonSchema.js';
import { ExitCode } from '../errors.js';
import type { PrintCommand } from './types.js';

/** Prints the JSON Schema of the configuration file on stdout. */
export const configSchemaCommand: PrintCommand<object> = async (_options, ctx) => {
  ctx.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return ExitCode.ok;
};
