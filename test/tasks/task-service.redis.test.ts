import type { Redis } from 'ioredis';
import type { TaskStore } from '../../src/tasks/ports';
import { RedisTaskStore } from '../../src/tasks/redis-task-store';
import { deleteKeys, newRedis, redisOrSkip, uniquePrefix } from '../support/redis';
import { describeTaskService } from './task-service.suite';

describeTaskService(redisOrSkip(), 'Redis', async () => {
  const keyPrefix = uniquePrefix('service');
  const clients: Redis[] = [];
  return {
    open: async (): Promise<TaskStore> => {
      const client = newRedis();
      clients.push(client);
      return new RedisTaskStore({ client, keyPrefix });
    },
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    dispose: async () => {
      if (clients[0]) await deleteKeys(clients[0], keyPrefix);
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
});
