/**
 * Progress of `generate` on stderr. On a terminal: one line redrawn in place (spinner, status, bar, percent,
 * elapsed time). Piped: one plain line each time the status or the progress changes, so logs stay readable
 * and stable. Messages (warnings, the outcome) are whole lines in both.
 */
import type { PlatformTask } from '../platform/task';

/** What generate reports to. */
export interface ProgressReporter {
  /** The task as last seen. */
  update(task: PlatformTask): void;
  /** A whole line (warnings, outcome); on a terminal it goes above the redrawn line. */
  message(text: string): void;
  /** Ends the display (the redrawn line is kept, followed by a newline). */
  finish(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 20;
/** Erase the current terminal line and return to its start. */
const CLEAR_LINE = '\r\x1b[2K';

function percent(task: PlatformTask): number {
  return Math.max(0, Math.min(100, Number.parseInt(task.progress, 10) || 0));
}

/** The bar line for `task` (exported for tests and for reuse). */
export function barLine(task: PlatformTask, frame: number, elapsedMs: number): string {
  const done = task.status === 'succeeded' ? '✔' : task.status === 'failed' ? '✖' : (SPINNER[frame % SPINNER.length] as string);
  const filled = Math.round((percent(task) / 100) * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  return `${done} ${task.task_id} ${task.status.padEnd(10)} ${bar} ${String(percent(task)).padStart(3)}%  ${(elapsedMs / 1000).toFixed(1)}s`;
}

/** One line per change of status or progress. */
class PlainReporter implements ProgressReporter {
  private last = '';
  constructor(private readonly out: NodeJS.WritableStream) {}
  update(task: PlatformTask): void {
    const line = `${task.task_id} ${task.status} ${task.progress}`;
    if (line === this.last) return;
    this.last = line;
    this.out.write(`${line}\n`);
  }
  message(text: string): void {
    this.out.write(`${text}\n`);
  }
  finish(): void {}
}

/** One line redrawn in place. */
class BarReporter implements ProgressReporter {
  private frame = 0;
  private current: string | undefined;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly elapsedMs: () => number,
  ) {}
  update(task: PlatformTask): void {
    this.current = barLine(task, this.frame++, this.elapsedMs());
    this.out.write(`${CLEAR_LINE}${this.current}`);
  }
  message(text: string): void {
    this.out.write(`${CLEAR_LINE}${text}\n${this.current ?? ''}`);
  }
  finish(): void {
    if (this.current !== undefined) this.out.write('\n');
    this.current = undefined;
  }
}

/** Shows nothing but messages. */
class QuietReporter implements ProgressReporter {
  constructor(private readonly out: NodeJS.WritableStream) {}
  update(): void {}
  message(text: string): void {
    this.out.write(`${text}\n`);
  }
  finish(): void {}
}

/** The reporter for `mode`; `auto` draws a bar only when `out` is a terminal (and TERM is not dumb). */
export function createProgressReporter(mode: 'auto' | 'bar' | 'plain' | 'none', out: NodeJS.WritableStream, env: NodeJS.ProcessEnv, elapsedMs: () => number): ProgressReporter {
  const terminal = (out as { isTTY?: boolean }).isTTY === true && env.TERM !== 'dumb';
  const resolved = mode === 'auto' ? (terminal ? 'bar' : 'plain') : mode;
  if (resolved === 'bar') return new BarReporter(out, elapsedMs);
  if (resolved === 'plain') return new PlainReporter(out);
  return new QuietReporter(out);
}
