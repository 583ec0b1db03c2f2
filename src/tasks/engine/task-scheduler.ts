/**
 * The TaskScheduler port: who calls the engine's step when a task is due. Two implementations, one file
 * each: in-process timers for the memory store (memory-task-scheduler.ts) and BullMQ on the same Redis for
 * the Redis store (bullmq-task-scheduler.ts). Both pass the shared suite in test/tasks/engine/.
 */

/**
 * Runs one due task; resolves the delay in ms until it should run again, or null when it needs no more runs
 * (terminal, settled, notified; or gone). A rejection is retried by the scheduler after a short delay.
 * `dueAt` is when the run was due (ms since epoch), for the lag metric.
 */
export type TaskRunner = (taskId: string, dueAt: number) => Promise<number | null>;

/** Calls a TaskRunner for each task when it is due, at most once at a time per task. */
export interface TaskScheduler {
  /**
   * Runs `taskId` after `delayMs`, unless the task is already scheduled or running (one schedule per task:
   * the existing one stands, and a running task is rescheduled by its runner's answer).
   */
  schedule(taskId: string, delayMs: number): Promise<void>;
  /** Starts calling `run` for due tasks (tasks scheduled before start wait for it). */
  start(run: TaskRunner): Promise<void>;
  /** Stops taking due tasks and waits for the running ones; schedules are kept where they are durable. Idempotent. */
  stop(): Promise<void>;
  /** How many tasks are scheduled or running (open tasks), for metrics. */
  size(): Promise<number>;
}
