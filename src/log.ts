/**
 * The logging API the rest of the tool imports (most modules need only the
 * Logger type, erased at build time). The pieces live in src/log/: redaction
 * (redact.ts, no winston), the progress board, the human stderr format and the
 * logger factory. The CLI imports those directly so that `--help` loads no winston.
 */
export {
  type CreateLoggerOptions,
  closeLogger,
  createLogger,
  type Logger,
  type LogLevel,
  levelFor,
  loggerStderr,
  progress,
  silentLogger,
} from './log/logger.js';
export { Redactor, redact, redactingStream, redactValue } from './log/redact.js';
