/**
 * ChannelCalls: the upstream side every task unit (submit, advance, the synchronous run) works with — the
 * channel router, the adapter registry and the one upstream client — and an upstream call whose wall time
 * counts as the request's upstream wait (RequestContext.upstreamMs). One injectable instead of the same three
 * constructor parameters in each unit.
 */
import { performance } from 'node:perf_hooks';
import { inject, injectable } from 'tsyringe';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter-kit/contract';
import { CHANNEL_ROUTER, UPSTREAM_CLIENT } from '../di/tokens';
import type { Channel, ChannelRouter } from '../routing/channels';
import { AdapterRegistry } from '../routing/registry';
import type { UpstreamClient } from '../upstream/upstream-client';
import type { RequestContext } from './ports';

@injectable()
export class ChannelCalls {
  constructor(
    /** Orders channels for a submit, finds a task's channel, and hears of each call's outcome (circuit breaker). */
    @inject(CHANNEL_ROUTER) readonly router: ChannelRouter,
    @inject(UPSTREAM_CLIENT) private readonly client: UpstreamClient,
    @inject(AdapterRegistry) private readonly registry: AdapterRegistry,
  ) {}

  /** The adapter with this id (a channel's or a stored task's `adapterId`). */
  adapter(adapterId: string): ImageAdapter {
    return this.registry.get(adapterId);
  }

  /** Sends `request` through the shared client; adds its wall time to `ctx.upstreamMs` when there is a request. */
  async send(ctx: RequestContext | undefined, channel: Channel, adapter: ImageAdapter, request: UpstreamRequest, operation: 'submit' | 'poll', owner?: string): Promise<UpstreamResponse> {
    // The owner shares the channel's sockets fairly with other owners (src/upstream/fair-slots.ts).
    const call = owner !== undefined ? { owner } : {};
    if (!ctx) return this.client.send(channel, adapter, request, operation, call);
    const started = performance.now();
    try {
      return await this.client.send(channel, adapter, request, operation, call);
    } finally {
      ctx.upstreamMs = (ctx.upstreamMs ?? 0) + (performance.now() - started);
    }
  }
}
