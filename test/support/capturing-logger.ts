/** A Logger that records every line (with its child bindings) for assertions. */
import type { Logger } from '../../src/core/ports';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One recorded log line: bindings of its child loggers merged with the logged object. */
export interface LogLine {
  level: LogLevel;
  msg: string | undefined;
  fields: Record<string, unknown>;
}

export class CapturingLogger implements Logger {
  constructor(
    /** Shared by a logger and all its children. */
    readonly lines: LogLine[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  debug(obj: object, msg?: string): void {
    this.push('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.push('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.push('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.push('error', obj, msg);
  }
  child(bindings: object): Logger {
    return new CapturingLogger(this.lines, { ...this.bindings, ...bindings });
  }

  /** Lines at a level. */
  at(level: LogLevel): LogLine[] {
    return this.lines.filter((l) => l.level === level);
  }

  /** Everything logged, as one string (for "never contains a secret" checks). */
  text(): string {
    return this.lines.map((l) => `${l.level} ${l.msg ?? ''} ${safeJson(l.fields)}`).join('\n');
  }

  private push(level: LogLevel, obj: object, msg: string | undefined): void {
    this.lines.push({ level, msg, fields: { ...this.bindings, ...(obj as Record<string, unknown>) } });
  }
}

function safeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v));
}
