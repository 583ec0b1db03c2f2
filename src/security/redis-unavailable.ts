/**
 * Bounds on Redis for the request path. A Redis that stops answering (SIGSTOP, a network partition, a full
 * disk) left every submit and query pending without bound: ioredis waits forever for a reply by default.
 * Each client gets a command timeout, and what fails for that reason becomes a 503 envelope with Retry-After
 * instead of a 500 (docs/reliability.md, "hostile clients"; REDIS_COMMAND_TIMEOUT_MS).
 */
import type { RedisOptions } from 'ioredis';
import { BridgeError, isBridgeError } from '../platform/errors';

/** Default longest wait for one Redis reply. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2000;

/** ioredis options that bound every command: a reply timeout, a connect timeout, few reconnect retries. */
export function boundedRedisOptions(commandTimeoutMs: number = DEFAULT_REDIS_COMMAND_TIMEOUT_MS): RedisOptions {
  return { commandTimeout: commandTimeoutMs, connectTimeout: Math.max(commandTimeoutMs, 1000), maxRetriesPerRequest: 2 };
}

/** The 503 a request gets when the shared store does not answer. */
export function storeUnavailable(what: string): BridgeError {
  return new BridgeError('upstream_unavailable', `The ${what} does not answer right now; nothing was lost. Retry in a moment.`, undefined, { 'retry-after': '1' });
}

/** Runs one Redis operation; a timeout or a lost connection becomes storeUnavailable(what). */
export async function boundedRedisCall<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isBridgeError(err)) throw err;
    throw Object.assign(storeUnavailable(what), { cause: err });
  }
}
