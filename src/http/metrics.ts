/**
 * The Metrics port's prom-client implementation, plus the HTTP layer's own metrics. Each instance owns
 * its Registry, so several bridges (or tests) in one process never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../core/ports';
import type { WebhookMetrics } from '../webhooks/webhook-delivery';
import type { WebhookFailureReason } from '../webhooks/webhook-sender';

/** Options of PromMetrics. */
export interface PromMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop) with the `bridge_` prefix. */
  readonly processMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
  private readonly settlementRetries: Counter<'model'>;
  private readonly dueLag: Histogram;
  private readonly enginePolls: Counter<'channel' | 'outcome'>;
  private openTasksRead: (() => Promise<number>) | undefined;
  private circuitsRead: Parameters<NonNullable<Metrics['trackCircuits']>>[0] | undefined;

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
    this.settlementRetries = new Counter({
      name: 'bridge_usage_settlement_retries_total',
      help: 'Usage settlements that did not confirm (the sink threw) and will be retried by the engine.',
      labelNames: ['model'],
      registers,
    });
    this.dueLag = new Histogram({
      name: 'bridge_engine_due_lag_seconds',
      help: 'How late the task engine ran a task after it was due.',
      buckets: LAG_BUCKETS,
      registers,
    });
    this.enginePolls = new Counter({
      name: 'bridge_engine_polls_total',
      help: 'Engine polls by channel: polled, or deferred (the channel poll concurrency or rate was spent).',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    const read = (): (() => Promise<number>) | undefined => this.openTasksRead;
    new Gauge({
      name: 'bridge_engine_open_tasks',
      help: 'Tasks the engine holds (scheduled or running; with Redis, across every instance).',
      registers,
      async collect() {
        const source = read();
        if (source) this.set(await source().catch(() => Number.NaN));
      },
    });
    const circuits = (): ReturnType<NonNullable<PromMetrics['circuitsRead']>> => this.circuitsRead?.() ?? [];
    new Gauge({
      name: 'bridge_upstream_circuit_state',
      help: "Each channel's circuit breaker on this instance: 1 for its current state (closed, open: tried last; half_open: one trial call), 0 for the others.",
      labelNames: ['channel', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { channel, state } of circuits()) for (const s of CIRCUIT_STATES) this.set({ channel, state: s }, s === state ? 1 : 0);
      },
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

  settlementRetry(model: string): void {
    this.settlementRetries.inc({ model });
  }

  engineDueLag(seconds: number): void {
    this.dueLag.observe(Math.max(0, seconds));
  }

  enginePoll(channel: string, outcome: 'polled' | 'deferred'): void {
    this.enginePolls.inc({ channel, outcome });
  }

  trackOpenTasks(read: () => Promise<number>): void {
    this.openTasksRead = read;
  }

  trackCircuits(read: NonNullable<PromMetrics['circuitsRead']>): void {
    this.circuitsRead = read;
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
