/**
 * A Logger that adds fixed fields to every line without creating a pino child. pino's child() serializes
 * its bindings and sets up redaction up front, which cost more per request than the lines themselves
 * (most requests write one line, or none below info); this merges the fields only when a line is written.
 */
import type { LogLevelName, Logger } from '../core/ports';

/** Whether `logger` writes lines at `level` (true when it cannot say). */
export function levelEnabled(logger: Logger, level: LogLevelName): boolean {
  return logger.isLevelEnabled ? logger.isLevelEnabled(level) : true;
}

/** `logger` with `bindings` added to every line; nothing is merged for a level that is off. */
export function withBindings(logger: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  return {
    debug: (obj, msg) => {
      if (levelEnabled(logger, 'debug')) logger.debug({ ...bindings, ...obj }, msg);
    },
    info: (obj, msg) => {
      if (levelEnabled(logger, 'info')) logger.info({ ...bindings, ...obj }, msg);
    },
    warn: (obj, msg) => {
      if (levelEnabled(logger, 'warn')) logger.warn({ ...bindings, ...obj }, msg);
    },
    error: (obj, msg) => {
      if (levelEnabled(logger, 'error')) logger.error({ ...bindings, ...obj }, msg);
    },
    child: (more) => withBindings(logger, { ...bindings, ...more }),
    isLevelEnabled: (level) => levelEnabled(logger, level),
  };
}
