/** The BullMQ scheduler passes the TaskScheduler contract on a real Redis, with two workers on one queue. */
import { BullMqTaskScheduler } from '../../../src/tasks/engine/bullmq-task-scheduler';
import { deleteKeys, newRedis, REDIS_URL, redisOrSkip, uniquePrefix } from '../../support/redis';
import { describeSchedulerContract } from './task-scheduler.contract';

const describeRedis = redisOrSkip();

describeSchedulerContract(describeRedis, 'BullMQ on Redis', async ({ concurrency }) => {
  const prefix = uniquePrefix('sched');
  const options = { url: REDIS_URL, prefix: `${prefix}engine`, concurrency, retryMs: 30 };
  const scheduler = new BullMqTaskScheduler(options);
  const peer = new BullMqTaskScheduler(options);
  return {
    scheduler,
    peer,
    dispose: async () => {
      await scheduler.stop();
      await peer.stop();
      const redis = newRedis();
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
});
