/**
 * The requests of the floor comparison (docs/benchmarks.md, "Method"), shared by the whole comparison
 * (`bench/compare.ts`) and the hot-path phase alone (`bench/hot-path.ts`), so both measure the same work: the same
 * gpt-image-2 submit sent to the mock hub directly (and through the floor) and to the gateway, and polls of the
 * mock's tasks.
 */
import http from 'node:http';
import { send, type LoadRequest } from './load';

/** The client key the comparison's gateway accepts, and the mock hub's key it sends upstream. */
export const BENCH_CLIENT_KEY = 'bench-client-key-0001';
export const BENCH_HUB_KEY = 'bench-upstream-key-0001';

/**
 * The comparison gateway's environment (`npm run bench`, the hot-path phase, the cost ladder): the mock hub's key,
 * the client key, warnings-only logs, a 1 s poll interval, limits that never refuse the load generator, and the
 * engine's background polls held to one a second per channel so they stay out of the per-request figures
 * (docs/benchmarks.md "Method").
 */
export function comparisonGatewayEnv(pollIntervalMs = 1000): Record<string, string> {
  return {
    HUB_API_KEY: BENCH_HUB_KEY,
    GATEWAY_API_KEYS: `${BENCH_CLIENT_KEY}:bench`,
    LOG_LEVEL: 'warn',
    POLL_INTERVAL_MS: String(pollIntervalMs),
    RATE_LIMIT_PER_MINUTE: '100000000',
    MAX_OPEN_TASKS_PER_OWNER: '100000000',
    POLL_RATE_PER_CHANNEL: '1',
  };
}

/**
 * The platform submit of the comparison (and of the engine phase): a gpt-image-2 1024x768 task, which the gateway
 * translates into `directSubmit`'s hub body. The memory figure builds the record it stores from it.
 */
export const COMPARISON_SUBMIT_BODY = { model: 'gpt-image-2', prompt: 'A small blue glass sphere on a clean white desk', size: '1024x768', quality: 'low', output_format: 'webp', n: 1 } as const;

/** The comparison's requests for one gateway. */
export interface FloorRequests {
  /** The gateway client's Authorization header. */
  readonly auth: Readonly<Record<string, string>>;
  /** The hub submit, as the floor forwards it to the mock (and as the mock is sent it directly). */
  readonly directSubmit: LoadRequest;
  /** The platform submit the gateway translates into `directSubmit`'s body. */
  readonly gwSubmit: LoadRequest;
  /** A poll of one of the mock's tasks (`up_1` .. `up_1000`, round robin). */
  readonly hubPoll: (i: number) => LoadRequest;
  /** Submits `count` tasks to the gateway (32 at a time) and answers their ids. */
  readonly createTasks: (count: number) => Promise<string[]>;
}

/** The requests, with the gateway's client key, the mock hub's key and the gateway's base URL. */
export function floorRequests(clientKey: string, hubKey: string, gatewayUrl: string): FloorRequests {
  const auth = { authorization: `Bearer ${clientKey}` };
  const hubAuth = { authorization: `Bearer ${hubKey}` };
  const json = { 'content-type': 'application/json' };
  const directSubmit: LoadRequest = {
    method: 'POST',
    path: '/hub/v1/tasks',
    headers: { ...json, ...hubAuth },
    body: JSON.stringify({ model: 'gpt-image-2', input: { prompt: 'A small blue glass sphere on a clean white desk', num_images: 1, output_format: 'webp', image_size: 'landscape_4_3', quality: 'low' } }),
  };
  const gwSubmit: LoadRequest = {
    method: 'POST',
    path: '/v1/images/tasks',
    headers: { ...json, ...auth },
    body: JSON.stringify(COMPARISON_SUBMIT_BODY),
  };
  const hubPoll = (i: number): LoadRequest => ({ method: 'GET', path: `/hub/v1/tasks/up_${(i % 1000) + 1}`, headers: hubAuth });
  const createTasks = async (count: number): Promise<string[]> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const ids: string[] = [];
    for (let i = 0; i < count; i += 32) {
      const batch = await Promise.all(Array.from({ length: Math.min(32, count - i) }, () => send(agent, new URL(gatewayUrl), gwSubmit)));
      for (const res of batch) ids.push((JSON.parse(res.body) as { task_id: string }).task_id);
    }
    agent.destroy();
    return ids;
  };
  return { auth, directSubmit, gwSubmit, hubPoll, createTasks };
}
