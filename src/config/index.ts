/** Configuration: find, read, validate and normalise the YAML file. */
export { configJsonSchema } from './jsonSchema.js';
export {
  configSearchPath,
  configSecrets,
  type LoadedConfig,
  loadConfig,
  parseConfigText,
} from './load.js';
export type {
  BackupConfig,
  ClusterAuth,
  ClusterConfig,
  Config,
  FtpConfig,
  GuestStateFilter,
} from './types.js';
