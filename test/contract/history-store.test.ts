import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisHistoryStore } from '../../src/adapters/store/redis-history.js';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { InMemoryHistory } from '../support/memory/memory-stores.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { historyStoreContract } from './history-store.contract.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  redis.disconnect();
});

historyStoreContract('Redis', async () => {
  const prefix = testPrefix('history');
  prefixes.push(prefix);
  return new RedisHistoryStore(redis, new RedisKeys(prefix));
});

historyStoreContract('in memory', async () => new InMemoryHistory());
