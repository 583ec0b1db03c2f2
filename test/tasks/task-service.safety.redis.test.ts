import type { Redis } from 'ioredis';
import { RedisSubmitLimiter } from '../../src/security/redis-submit-limiter';
import type { SubmitLimiter } from '../../src/security/ports';
import type { TaskStore } from '../../src/tasks/ports';
import { RedisTaskStore } from '../../src/tasks/redis-task-store';
import { deleteKeys, newRedis, redisOrSkip, uniquePrefix } from '../support/redis';
import { describeTaskServiceSafety } from './task-service.safety.suite';

describeTaskServiceSafety(
  redisOrSkip(),
  'Redis (two instances, real time)',
  async () => {
    const keyPrefix = uniquePrefix('safety');
    const clients: Redis[] = [];
    const connect = (): Redis => {
      const client = newRedis();
      clients.push(client);
      return client;
    };
    return {
      openStore: async (): Promise<TaskStore> => new RedisTaskStore({ client: connect(), keyPrefix }),
      openLimiter: async (_clock, limits): Promise<SubmitLimiter> => new RedisSubmitLimiter(limits, { client: connect(), keyPrefix }),
      // TTLs and buckets run on the Redis server's clock; the fake clock moves along for the service.
      pass: async (clock, ms) => {
        clock.advance(ms);
        await new Promise<void>((resolve) => setTimeout(resolve, ms));
      },
      dispose: async () => {
        if (clients[0]) await deleteKeys(clients[0], keyPrefix);
        await Promise.all(clients.map((c) => c.quit()));
      },
    };
  },
  150,
);
