/**
 * TaskService: the task API as a small facade over its units (docs/reliability.md): submit
 * (TaskSubmitter: admission, idempotency, routing, failover), query (from the store; a due task is advanced
 * at once, coalesced with any step already running) and advance (TaskAdvancer: one unit of work on a task).
 */
import { inject, injectable } from 'tsyringe';
import { LOGGER, TASK_ENGINE } from '../di/tokens';
import type { RawSubmit } from '../platform/submit-request';
import { taskNotFoundError } from '../platform/errors';
import { isTerminal, TASK_ID_PATTERN, type PlatformTask } from '../platform/task';
import { withBindings } from '../util/bound-logger';
import type { Logger } from '../core/ports';
import type { Principal, RequestContext, SubmitOptions, TaskApi } from './ports';
import type { TaskEngine } from './engine/task-engine';
import { TaskAdvancer, type AdvanceResult } from './task-advancer';
import { errorFields } from './task-errors';
import { toPlatformTask } from './task-record';
import { TaskSubmitter } from './task-submitter';

export { DEFAULT_TASK_OPTIONS, type TaskOptions as TaskServiceOptions } from './task-options';
export { IDEMPOTENCY_HEADER, newTaskId } from './task-submitter';

@injectable()
export class TaskService implements TaskApi {
  constructor(
    @inject(TaskSubmitter) private readonly submitter: TaskSubmitter,
    @inject(TaskAdvancer) private readonly advancer: TaskAdvancer,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(TASK_ENGINE, { isOptional: true }) private readonly engine?: TaskEngine,
  ) {}

  async submit(principal: Principal, raw: RawSubmit, ctx: RequestContext, options?: SubmitOptions): Promise<PlatformTask> {
    const outcome = await this.submitter.submit(principal, raw, ctx, options);
    if (outcome.kind === 'created' && this.engine) {
      // The task exists upstream and in the store: a scheduling failure must not fail the submit. Queries
      // still advance the task; the error is loud so an operator sees that the engine lost one.
      await this.engine.track(outcome.record).catch((err: unknown) =>
        this.logger.error({ event: 'engine_schedule_failed', request_id: ctx.requestId, task_id: outcome.record.id, error: errorFields(err) }, 'task stored but not scheduled; it advances only when queried'),
      );
    }
    return toPlatformTask(outcome.record);
  }

  async get(principal: Principal, taskId: string, ctx: RequestContext): Promise<PlatformTask> {
    if (!TASK_ID_PATTERN.test(taskId)) throw taskNotFoundError();
    const record = await this.advancer.read(taskId);
    // Unknown and foreign tasks answer alike: the answer never reveals that an id exists.
    if (!record || record.owner !== principal.owner) throw taskNotFoundError();
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
