/**
 * UsageSettlement: turns a terminal task into its usage event for the UsageSink, at least once, with task_id
 * as the idempotency key (docs/reliability.md, "Usage"): claim (a lease in the store), record, confirm. A sink
 * that throws, or a process that dies between claim and confirm, leaves the task unsettled; the engine runs
 * the task again with backoff until a settlement is confirmed (after the claim's lease when it was not released).
 */
import { inject, injectable } from 'tsyringe';
import { METRICS, PRICES, TASK_OPTIONS, TASK_STORE, USAGE_SINK } from '../di/tokens';
import type { Logger, Metrics } from '../core/ports';
import type { TaskStore, UsageEvent, UsageSink } from './ports';
import { computeCost, DEFAULT_PRICES, type Prices } from './pricing';
import { errorFields } from './task-errors';
import { resolveTaskOptions, type TaskOptions } from './task-options';
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
    requested_n: record.billing.requestedImages,
    result_count: record.resultUrls.length,
    status,
    cost: 0,
    currency: prices.currency,
    channel: record.channelId,
    ...(record.upstreamCalls !== undefined ? { upstream_calls: record.upstreamCalls } : {}),
  };
}

@injectable()
export class UsageSettlement {
  private readonly prices: Prices;
  private readonly leaseMs: number;

  constructor(
    @inject(TASK_STORE) private readonly store: TaskStore,
    @inject(USAGE_SINK) private readonly sink: UsageSink,
    @inject(METRICS) private readonly metrics: Metrics,
    @inject(PRICES, { isOptional: true }) prices?: Prices,
    @inject(TASK_OPTIONS, { isOptional: true }) options?: TaskOptions,
  ) {
    this.prices = prices ?? DEFAULT_PRICES;
    this.leaseMs = resolveTaskOptions(options).settlementLeaseMs;
  }

  /**
   * Settles usage of a terminal record unless it is settled already, and sets `record.usageSettled`.
   * Resolves true when the record is settled (by this call or an earlier one), false when it is not yet (the
   * sink failed, or another caller holds the claim): the caller tries again later. Never throws for a sink
   * failure: it is logged with the whole event.
   */
  async settle(record: TaskRecord, log: Logger, requestId?: string): Promise<boolean> {
    if (record.usageSettled) return true;
    const claim = await this.store.claimSettlement(record.id, this.leaseMs);
    if (claim === 'held') return false;
    if (claim === 'claimed') {
      const event = usageEventOf(record, this.prices);
      try {
        event.cost = computeCost(this.prices, record, record.resultUrls.length, event.status);
        await this.sink.record(event, requestId !== undefined ? { requestId } : undefined);
      } catch (err) {
        // Unconfirmed: the claim lapses after its lease and the engine records this event again.
        log.error({ event: 'usage_settlement_failed', usage: event, retry_after_ms: this.leaseMs, error: errorFields(err) }, 'usage could not be recorded; it will be retried');
        this.metrics.settlementRetry?.(record.model);
        return false;
      }
      await this.store.confirmSettlement(record.id);
      this.metrics.settlement(record.model, event.status, event.cost);
    }
    // `settled` without usageSettled on the record: a process confirmed, then died before this update.
    record.usageSettled = true;
    await this.store.update(record);
    return true;
  }
}
