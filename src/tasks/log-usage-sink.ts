/**
 * LogUsageSink: the default UsageSink. Writes one structured line per settled task, `{event: 'usage', ...}`
 * at info, for a log pipeline to bill from. Embedders with a billing database register their own sink.
 */
import { inject, injectable } from 'tsyringe';
import { LOGGER } from '../di/tokens';
import type { Logger } from '../core/ports';
import type { UsageEvent, UsageSink } from './ports';

@injectable()
export class LogUsageSink implements UsageSink {
  constructor(@inject(LOGGER) private readonly logger: Logger) {}

  async record(event: UsageEvent, context?: { requestId?: string }): Promise<void> {
    this.logger.info({ event: 'usage', ...event, ...(context?.requestId ? { request_id: context.requestId } : {}) }, 'usage settled');
  }
}
