import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../../support/redis';
import { describeTaskEngine } from './task-engine.suite';

describeTaskEngine(redisOrSkip(), 'Redis (BullMQ)', async () => {
  const prefix = uniquePrefix('engine');
  return {
    env: () => ({ TASK_STORE: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix }),
    dispose: async () => {
      const redis = newRedis();
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
});
