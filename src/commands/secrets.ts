/**
 * Feeding the secrets of a loaded config (and those the API client acquires
 * later: tickets, CSRF tokens) to the log redaction before anything logs.
 */
import type { Config } from '../config/index.js';
import { configSecrets } from '../config/index.js';
import type { Logger } from '../log.js';
import * as log from '../log.js';

/** Register secrets for redaction; a no-op when the logging module offers no registry. */
export function registerSecrets(_logger: Logger, config?: Config, extra: string[] = []): void {
  const secrets = [...(config ? configSecrets(config) : []), ...extra].filter((s) => s.length > 0);
  const add = (log as { addSecrets?: (...s: string[]) => void }).addSecrets;
  if (add && secrets.length > 0) add(...secrets);
}
