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

/** A Logger that merges `bindings` into each line it writes; one object per binding (no closures per call). */
class BoundLogger implements Logger {
  constructor(
    private readonly logger: Logger,
    private readonly bindings: Readonly<Record<string, unknown>>,
  ) {}

  debug(obj: object, msg?: string): void {
    if (levelEnabled(this.logger, 'debug')) this.logger.debug({ ...this.bindings, ...obj }, msg);
  }

  info(obj: object, msg?: string): void {
    if (levelEnabled(this.logger, 'info')) this.logger.info({ ...this.bindings, ...obj }, msg);
  }

  warn(obj: object, msg?: string): void {
    if (levelEnabled(this.logger, 'warn')) this.logger.warn({ ...this.bindings, ...obj }, msg);
  }

  error(obj: object, msg?: string): void {
    if (levelEnabled(this.logger, 'error')) this.logger.error({ ...this.bindings, ...obj }, msg);
  }

  child(more: object): Logger {
    return new BoundLogger(this.logger, { ...this.bindings, ...more });
  }

  isLevelEnabled(level: LogLevelName): boolean {
    return levelEnabled(this.logger, level);
  }
}

/** `logger` with `bindings` added to every line; nothing is merged for a level that is off. */
export function withBindings(logger: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  return new BoundLogger(logger, bindings);
}
