import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisLockStore } from '../../src/adapters/store/redis-lock-store.js';
import { InMemoryLockStore } from '../support/memory/memory-stores.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { VirtualClock } from '../support/virtual-clock.js';
import { lockStoreContract } from './lock-store.contract.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  redis.disconnect();
});

lockStoreContract('Redis', async () => {
  const prefix = testPrefix('locks');
  prefixes.push(prefix);
  return {
    locks: new RedisLockStore(redis, new RedisKeys(prefix)),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
});

lockStoreContract('in memory', async () => {
  const clock = new VirtualClock();
  return { locks: new InMemoryLockStore(clock), pass: (ms) => clock.sleep(ms) };
});
