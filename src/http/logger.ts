/**
 * The Logger port's default implementation: pino JSON lines with secrets redacted.
 */
import pino, { type DestinationStream } from 'pino';
import type { Logger } from '../core/ports';
import type { LogLevel } from '../config/config';

/**
 * Paths pino removes from every log object. Headers are logged by nobody on purpose, but a stray
 * `headers`/`apiKey`/`key` object must still never put a secret in a log line.
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'key',
  '*.key',
  'password',
  '*.password',
];

/** A pino logger writing JSON lines to `destination` (default stdout). */
export function createPinoLogger(level: LogLevel, destination?: DestinationStream): pino.Logger {
  return pino(
    {
      level,
      base: { service: 'image-task-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Views a pino logger through the Logger port (pino already has the right shape). */
export function asLoggerPort(logger: pino.Logger): Logger {
  return logger as unknown as Logger;
}
