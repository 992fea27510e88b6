/**
 * Logging: one winston logger per run, passed down; modules take child loggers
 * tagged with cluster/node/guest. Secrets are removed at the sink (redaction
 * format), so no call site has to remember it.
 */
import winston, { type Logger } from 'winston';

export type { Logger };

/** A logger that drops everything: for tests and library callers that want no output. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
