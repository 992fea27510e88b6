/**
 * Feeding the secrets of a loaded config (and those the API client acquires
 * later: tickets, CSRF tokens) to the log redaction before anything logs.
 */
import type { Config } from '../config/index.js';
import { configSecrets } from '../config/index.js';
import { addSecrets } from '../log.js';

/** Register secrets for redaction in every logger of the process. */
export function registerSecrets(config?: Config, extra: string[] = []): void {
  addSecrets(...(config ? configSecrets(config) : []), ...extra);
}
