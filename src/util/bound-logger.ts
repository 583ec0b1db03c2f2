/**
 * A Logger that adds fixed fields to every line without creating a pino child. pino's child() serializes
 * its bindings and sets up redaction up front, which cost more per request than the lines themselves
 * (most requests write one line, or none below info); this merges the fields only when a line is written.
 */
import type { Logger } from '../tasks/ports';

/** `logger` with `bindings` added to every line. */
export function withBindings(logger: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  return {
    debug: (obj, msg) => logger.debug({ ...bindings, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...bindings, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...bindings, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...bindings, ...obj }, msg),
    child: (more) => withBindings(logger, { ...bindings, ...more }),
  };
}
