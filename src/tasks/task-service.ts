/**
 * TaskService: the task API as a small facade over its units (docs/reliability.md): submit
 * (TaskSubmitter: admission, idempotency, routing, failover), query (from the store; a due task is advanced
 * at once, coalesced with any step already running) and advance (TaskAdvancer: one unit of work on a task).
 */
import { inject, injectable } from 'tsyringe';
import { LOGGER } from '../di/tokens';
import type { RawSubmit } from '../platform/submit-request';
import { isTerminal, type PlatformTask } from '../platform/task';
import { withBindings } from '../util/bound-logger';
import type { Logger, Principal, RequestContext, SubmitOptions, TaskApi } from './ports';
import { TaskAdvancer, type AdvanceResult } from './task-advancer';
import { taskNotFound } from './task-errors';
import { toPlatformTask } from './task-record';
import { TaskSubmitter } from './task-submitter';

export { DEFAULT_TASK_OPTIONS, type TaskOptions as TaskServiceOptions } from './task-options';
export { IDEMPOTENCY_HEADER, newTaskId } from './task-submitter';

/** What a task id looks like; anything else is not found without a store lookup. */
const TASK_ID_PATTERN = /^task_[A-Za-z0-9_-]{22,64}$/;

@injectable()
export class TaskService implements TaskApi {
  constructor(
    @inject(TaskSubmitter) private readonly submitter: TaskSubmitter,
    @inject(TaskAdvancer) private readonly advancer: TaskAdvancer,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async submit(principal: Principal, raw: RawSubmit, ctx: RequestContext, options?: SubmitOptions): Promise<PlatformTask> {
    const outcome = await this.submitter.submit(principal, raw, ctx, options);
    return toPlatformTask(outcome.record);
  }

  async get(principal: Principal, taskId: string, ctx: RequestContext): Promise<PlatformTask> {
    if (!TASK_ID_PATTERN.test(taskId)) throw taskNotFound();
    const record = await this.advancer.read(taskId);
    // Unknown and foreign tasks answer alike: the answer never reveals that an id exists.
    if (!record || record.owner !== principal.owner) throw taskNotFound();
    const log = withBindings(this.logger, { request_id: ctx.requestId, task_id: taskId });
    if (isTerminal(record.status)) {
      // Settled when it became terminal; this catches a crash between the terminal update and the settlement.
      if (!record.usageSettled) await this.advancer.finalize(record, log, ctx.requestId);
      return toPlatformTask(record);
    }
    return toPlatformTask(await this.advancer.stepWithin(record, ctx, log));
  }

  /** One unit of work on a task, as the engine runs it (see TaskAdvancer.advance). */
  advance(taskId: string): Promise<AdvanceResult> {
    return this.advancer.advance(taskId);
  }
}
