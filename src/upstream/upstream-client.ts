/**
 * The shared upstream client port: the one place that sends adapter-built requests over HTTP and turns
 * every failure into a typed UpstreamError with secrets removed.
 */
import type { Channel } from '../routing/channels';
import type { ImageAdapter, UpstreamRequest, UpstreamResponse } from '../adapter-kit/contract';

/** What kind of call this is: decides the retry policy. */
export type UpstreamOperation = 'submit' | 'poll';

/** Who a call is for. */
export interface UpstreamCallContext {
  /** The task's owner: a channel's sockets are shared fairly between owners (src/upstream/fair-slots.ts). */
  readonly owner?: string;
}

/** Sends upstream requests for a channel. */
export interface UpstreamClient {
  /**
   * Sends `request` to `channel` with `adapter`'s auth headers. Resolves with 2xx responses (and statuses
   * the request lists in acceptStatuses); throws UpstreamError otherwise. Polls are retried with jittered
   * backoff on network errors, 429 and 5xx; submits only when the connection was refused.
   */
  send(channel: Channel, adapter: ImageAdapter, request: UpstreamRequest, operation: UpstreamOperation, context?: UpstreamCallContext): Promise<UpstreamResponse>;
  /** Closes keep-alive sockets. */
  close(): Promise<void>;
}
