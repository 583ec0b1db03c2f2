/**
 * WeightedChannelRouter: orders the configured channels for an intent.
 *
 * - Only channels whose adapter serves the intent (declared capabilities) and whose `models` list has the
 *   platform model (or no list) are candidates; none is a model_unavailable error that says why: the model
 *   when the model is not served, otherwise the parameter and its limit on this deployment (n, images, ...).
 * - Higher priority first; within one priority a weighted random order (weight 0: after the others).
 * - Channels whose circuit is open go after every healthy one, still ordered by priority and weight. They
 *   are kept rather than dropped: when every channel of a model is ejected, trying one is better than
 *   refusing the request outright, and a dead channel usually fails fast (connection refused).
 */
import { inject, injectable } from 'tsyringe';
import { CHANNELS, CIRCUIT_BREAKER_OPTIONS, CLOCK, LOGGER, METRICS, RANDOM } from '../di/tokens';
import type { ImageIntent } from '../intent/intent';
import { ConfigError } from '../platform/errors';
import type { Clock, Logger, Metrics, Random } from '../core/ports';
import { notServedError, refusal, type Refusal } from '../adapter-kit/capabilities';
import type { Channel, ChannelRouter } from './channels';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
import { AdapterRegistry } from './registry';

@injectable()
export class WeightedChannelRouter implements ChannelRouter {
  private readonly channels: readonly Channel[];
  private readonly byIdMap = new Map<string, Channel>();
  private readonly breaker: CircuitBreaker;
  private readonly logger: Logger | undefined;

  constructor(
    @inject(CHANNELS) channels: readonly Channel[],
    @inject(AdapterRegistry) private readonly registry: AdapterRegistry,
    @inject(RANDOM) private readonly random: Random,
    @inject(CLOCK) clock: Clock,
    @inject(LOGGER, { isOptional: true }) logger?: Logger,
    @inject(CIRCUIT_BREAKER_OPTIONS, { isOptional: true }) breakerOptions?: CircuitBreakerOptions,
    @inject(METRICS, { isOptional: true }) metrics?: Metrics,
  ) {
    for (const channel of channels) {
      if (this.byIdMap.has(channel.id)) throw new ConfigError(`Two channels have the id "${channel.id}"; channel ids must be unique.`);
      // Fails start-up on a channel whose adapter is not registered.
      registry.get(channel.adapterId);
      if (!(channel.weight >= 0) || !Number.isFinite(channel.weight)) throw new ConfigError(`Channel ${channel.id} has weight ${channel.weight}; weights must be finite and >= 0.`);
      this.byIdMap.set(channel.id, channel);
    }
    this.channels = [...channels];
    this.breaker = new CircuitBreaker(clock, breakerOptions);
    this.logger = logger;
    // Reported on /metrics (bridge_upstream_circuit_state), read when Prometheus scrapes.
    metrics?.trackCircuits?.(() => this.channels.map((c) => ({ channel: c.id, state: this.breaker.state(c.id) })));
  }

  candidates(intent: ImageIntent): Channel[] {
    const serving: Channel[] = [];
    let firstRefusal: Refusal | undefined;
    let offeredByAdapter = false;
    for (const channel of this.channels) {
      const why = refusal(this.registry.get(channel.adapterId).capabilities, intent);
      if (why !== undefined) {
        firstRefusal ??= why;
        continue;
      }
      offeredByAdapter = true;
      if (channel.models && !channel.models.includes(intent.platformModel)) continue;
      serving.push(channel);
    }
    if (serving.length === 0) {
      // A channel list that leaves the model out blames the model; otherwise the first channel's refusal
      // names what it cannot take: the model (no 8K tier) or a parameter and its limit (n, images, ...).
      if (offeredByAdapter) throw notServedError(intent, undefined, `no configured upstream channel offers ${intent.platformModel}`);
      throw notServedError(intent, firstRefusal, 'no upstream channel is configured');
    }
    const healthy: Channel[] = [];
    const ejected: Channel[] = [];
    for (const channel of serving) (this.breaker.allow(channel.id) ? healthy : ejected).push(channel);
    return [...this.order(healthy), ...this.order(ejected)];
  }

  byId(id: string): Channel | undefined {
    return this.byIdMap.get(id);
  }

  reportSuccess(channelId: string): void {
    if (this.breaker.recordSuccess(channelId) === 'closed') this.logger?.info({ channel: channelId, circuit: 'closed' }, `upstream ${channelId} recovered; its circuit is closed again`);
  }

  reportFailure(channelId: string): void {
    const change = this.breaker.recordFailure(channelId);
    if (change === 'opened') {
      this.logger?.warn(
        { channel: channelId, circuit: 'open', failures: this.breaker.failures(channelId) },
        `upstream ${channelId} failed ${this.breaker.failures(channelId)} times in a row; it is tried last until it recovers`,
      );
    } else if (change === 'reopened') {
      this.logger?.debug({ channel: channelId, circuit: 'open' }, `upstream ${channelId} is still failing; its circuit stays open`);
    }
  }

  /** The circuit state of a channel (also reported on /metrics as bridge_upstream_circuit_state). */
  circuitState(channelId: string): CircuitState {
    return this.breaker.state(channelId);
  }

  /** Priority descending; within a priority, a weighted random permutation. */
  private order(channels: readonly Channel[]): Channel[] {
    if (channels.length <= 1) return [...channels];
    const byPriority = new Map<number, Channel[]>();
    for (const c of channels) byPriority.set(c.priority, [...(byPriority.get(c.priority) ?? []), c]);
    return [...byPriority.keys()].sort((a, b) => b - a).flatMap((p) => this.weightedShuffle(byPriority.get(p) ?? []));
  }

  /** Successive weighted draws without replacement (config order breaks ties for weight 0). */
  private weightedShuffle(group: readonly Channel[]): Channel[] {
    const pool = group.filter((c) => c.weight > 0);
    const out: Channel[] = [];
    while (pool.length > 0) {
      const total = pool.reduce((sum, c) => sum + c.weight, 0);
      let r = this.random.float() * total;
      let pick = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        r -= (pool[i] as Channel).weight;
        if (r < 0) {
          pick = i;
          break;
        }
      }
      out.push(...pool.splice(pick, 1));
    }
    return [...out, ...group.filter((c) => c.weight === 0)];
  }
}
