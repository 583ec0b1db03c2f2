/** One upstream call whose wall time counts as the request's upstream wait (RequestContext.upstreamMs). */
import { performance } from 'node:perf_hooks';
import type { Channel } from '../routing/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter-kit/contract';
import type { UpstreamClient } from '../upstream/upstream-client';
import type { RequestContext } from './ports';

/** Sends `request` through the shared client; adds its wall time to `ctx.upstreamMs` when there is a request. */
export async function timedSend(
  client: UpstreamClient,
  ctx: RequestContext | undefined,
  channel: Channel,
  adapter: ImageAdapter,
  request: UpstreamRequest,
  operation: 'submit' | 'poll',
  owner?: string,
): Promise<UpstreamResponse> {
  // The owner shares the channel's sockets fairly with other owners (src/upstream/fair-slots.ts).
  const call = owner !== undefined ? { owner } : {};
  if (!ctx) return client.send(channel, adapter, request, operation, call);
  const started = performance.now();
  try {
    return await client.send(channel, adapter, request, operation, call);
  } finally {
    ctx.upstreamMs = (ctx.upstreamMs ?? 0) + (performance.now() - started);
  }
}
