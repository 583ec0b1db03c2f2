/**
 * The Metrics port's prom-client implementation, plus the HTTP layer's own metrics. Each instance owns
 * its Registry, so several bridges (or tests) in one process never share counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../tasks/ports';
import type { WebhookMetrics } from '../webhooks/webhook-delivery';
import type { WebhookFailureReason } from '../webhooks/webhook-sender';

/** Options of PromMetrics. */
export interface PromMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop) with the `bridge_` prefix. */
  readonly processMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** prom-client metrics of one bridge instance. */
export class PromMetrics implements Metrics, WebhookMetrics {
  /** The registry /metrics renders. */
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'model' | 'status'>;
  private readonly upstream: Histogram<'channel' | 'operation' | 'outcome'>;
  private readonly terminal: Counter<'model' | 'status'>;
  private readonly settlements: Counter<'model' | 'status'>;
  private readonly settledCost: Counter<'model'>;
  private readonly overhead: Histogram<'route'>;
  private readonly webhookDeliveries: Counter<'result'>;
  private readonly webhookFailures: Counter<'reason'>;

  constructor(options: PromMetricsOptions = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'bridge_http_requests_total',
      help: 'Platform API requests by route, model (submits), and HTTP status.',
      labelNames: ['route', 'method', 'model', 'status'],
      registers,
    });
    this.upstream = new Histogram({
      name: 'bridge_upstream_request_duration_seconds',
      help: 'Upstream HTTP calls by channel, operation (submit/poll) and outcome (ok or failure kind).',
      labelNames: ['channel', 'operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.terminal = new Counter({
      name: 'bridge_tasks_terminal_total',
      help: 'Tasks that reached a terminal status.',
      labelNames: ['model', 'status'],
      registers,
    });
    this.settlements = new Counter({
      name: 'bridge_usage_settlements_total',
      help: 'Usage settlements (exactly one per terminal task).',
      labelNames: ['model', 'status'],
      registers,
    });
    this.settledCost = new Counter({
      name: 'bridge_usage_cost_total',
      help: 'Sum of settled cost, in the price table unit.',
      labelNames: ['model'],
      registers,
    });
    this.overhead = new Histogram({
      name: 'bridge_overhead_seconds',
      help: 'Time the bridge itself adds to a request: total request time minus time spent waiting on upstream calls.',
      labelNames: ['route'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'bridge_webhook_deliveries_total',
      help: 'Webhook deliveries that ended: delivered, or failed (refused address, or retries exhausted).',
      labelNames: ['result'],
      registers,
    });
    this.webhookFailures = new Counter({
      name: 'bridge_webhook_attempt_failures_total',
      help: 'Failed webhook attempts by reason (refused_address, dns_error, connection_error, timeout, redirect, http_status, ...).',
      labelNames: ['reason'],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bridge_' });
  }

  upstreamCall(channel: string, operation: 'submit' | 'poll', outcome: string, seconds: number): void {
    this.upstream.observe({ channel, operation, outcome }, seconds);
  }

  taskTerminal(model: string, status: 'succeeded' | 'failed'): void {
    this.terminal.inc({ model, status });
  }

  settlement(model: string, status: 'succeeded' | 'failed', cost: number): void {
    this.settlements.inc({ model, status });
    if (cost > 0) this.settledCost.inc({ model }, cost);
  }

  webhookAttemptFailed(reason: WebhookFailureReason): void {
    this.webhookFailures.inc({ reason });
  }

  webhookDelivery(result: 'delivered' | 'failed'): void {
    this.webhookDeliveries.inc({ result });
  }

  /** Records one finished HTTP request. */
  httpRequest(route: string, method: string, model: string, status: number): void {
    this.requests.inc({ route, method, model, status: String(status) });
  }

  /** Records the bridge's own share of a request's time. */
  bridgeOverhead(route: string, seconds: number): void {
    this.overhead.observe({ route }, Math.max(0, seconds));
  }

  /** Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
