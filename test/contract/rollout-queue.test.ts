import { afterAll } from 'vitest';
import { InMemoryQueue } from '../support/memory/memory-queue.js';
import {
  BullRolloutQueue,
  RedisQueueStorage,
  redisConnection,
} from '../../src/adapters/queue/bullmq-rollout-queue.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { bullQueueSubject, rolloutQueueContract } from './rollout-queue.contract.js';

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
});

rolloutQueueContract('BullMQ on Redis', async () => {
  const prefix = testPrefix('queue');
  prefixes.push(prefix);
  const connection = redisConnection(REDIS_URL, () => {});
  return bullQueueSubject(new BullRolloutQueue(new RedisQueueStorage(connection, prefix)), () =>
    connection.disconnect(),
  );
});

rolloutQueueContract('in process', async () => {
  const queue = new InMemoryQueue(() => {});
  return { queue, close: () => queue.close() };
});
