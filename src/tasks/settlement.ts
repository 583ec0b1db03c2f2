/**
 * UsageSettlement: turns a terminal task into one usage event for the UsageSink, keyed by task_id
 * (docs/reliability.md, "Usage").
 */
import { inject, injectable } from 'tsyringe';
import { METRICS, PRICES, TASK_STORE, USAGE_SINK } from '../di/tokens';
import type { Logger, Metrics, TaskStore, UsageEvent, UsageSink } from './ports';
import { computeCost, DEFAULT_PRICES, type Prices } from './pricing';
import { errorFields } from './task-errors';
import type { TaskRecord } from './task-record';

/** The usage event of a terminal record (cost from the price table). */
export function usageEventOf(record: TaskRecord, prices: Prices): UsageEvent {
  const status = record.status as 'succeeded' | 'failed';
  return {
    task_id: record.id,
    owner: record.owner,
    model: record.model,
    ...(record.billing.tier ? { tier: record.billing.tier } : {}),
    ...(record.billing.quality ? { quality: record.billing.quality } : {}),
    requested_n: record.billing.units,
    result_count: record.resultUrls.length,
    status,
    cost: 0,
    currency: prices.currency,
    channel: record.channelId,
  };
}

@injectable()
export class UsageSettlement {
  private readonly prices: Prices;

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(USAGE_SINK) private readonly sink: UsageSink,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(PRICES, { isOptional: true }) prices?: Prices,
  ) {
    this.prices = prices ?? DEFAULT_PRICES;
  }

  /**
   * Settles usage of a terminal record unless it is settled already. Resolves true when the record is
   * settled (by this call or an earlier one), false when it is not (the sink failed, or another caller
   * holds the claim). Never throws for a sink failure: it is logged with the whole event.
   */
  async settle(record: TaskRecord, log: Logger, requestId?: string): Promise<boolean> {
    if (record.usageSettled) return true;
    if (!(await this.store.claimSettlement(record.id))) return false;
    const event = usageEventOf(record, this.prices);
    try {
      event.cost = computeCost(this.prices, record, record.resultUrls.length, event.status);
      await this.sink.record(event, requestId !== undefined ? { requestId } : undefined);
    } catch (err) {
      log.error({ event: 'usage_settlement_failed', usage: event, error: errorFields(err) }, 'usage could not be recorded');
      return false;
    }
    this.metrics.settlement(record.model, event.status, event.cost);
    record.usageSettled = true;
    await this.store.update(record);
    return true;
  }
}
