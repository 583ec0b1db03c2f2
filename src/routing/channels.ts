/**
 * Channels: a configured account on an upstream (adapter id + base URL + key), serving some platform
 * models, with a priority and a weight. The router orders candidate channels for an intent.
 */
import type { ImageIntent } from '../intent/intent';

/** One configured upstream account. */
export interface Channel {
  /** Unique channel id (stored with each task; polls go back to it). */
  readonly id: string;
  /** Adapter id, e.g. `hub`. */
  readonly adapterId: string;
  /** Base URL of the upstream. */
  readonly baseUrl: string;
  /** The upstream key (read from the environment variable the config names; never logged). */
  readonly apiKey: string;
  /** Platform model names served; undefined means every model the adapter serves. */
  readonly models?: readonly string[];
  /** Higher priority is tried first. */
  readonly priority: number;
  /** Relative weight among channels of equal priority. */
  readonly weight: number;
  /** Copy result images into the BlobStore when a task succeeds here (`mirror_results`; for expiring upstream URLs). */
  readonly mirrorResults?: boolean;
  /** Seconds the upstream may hold a submit open to answer the finished job (`prefer_wait_seconds`: `Prefer: wait=N`). */
  readonly preferWaitSeconds?: number;
}

/** Orders channels for a submit and learns from their failures. */
export interface ChannelRouter {
  /** Channels able to serve the intent, in the order to try them (throws model_unavailable if none). */
  candidates(intent: ImageIntent): Channel[];
  /** The channel with this id (for polls of an existing task). */
  byId(id: string): Channel | undefined;
  /** A call on this channel succeeded. */
  reportSuccess(channelId: string): void;
  /** A call on this channel failed with a retryable error (feeds the circuit breaker). */
  reportFailure(channelId: string): void;
}
