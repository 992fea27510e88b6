/** The configuration's JSON Schema, derived from the zod schema (never written twice). */
import { z } from 'zod';
import { configFile } from './schema.js';

/**
 * JSON Schema (draft 2020-12) of the YAML file, for editors. `io: 'input'`
 * describes what the admin writes: keys with defaults are optional.
 */
export function configJsonSchema(): object {
  return {
    ...z.toJSONSchema(configFile, { io: 'input', unrepresentable: 'any' }),
    title: 'pve-ftp-backup configuration',
  };
}
