import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { InMemoryChatOpsStore } from '../support/memory/memory-chatops-store.js';
import { RedisChatOpsStore } from '../../src/adapters/store/redis-chatops-store.js';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { chatOpsStoreContract } from './chatops-store.contract.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
const pass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  redis.disconnect();
});

chatOpsStoreContract('Redis', async () => {
  const prefix = testPrefix('chatops');
  prefixes.push(prefix);
  return { store: new RedisChatOpsStore(redis, new RedisKeys(prefix)), pass };
});

chatOpsStoreContract('in memory', async () => ({
  store: new InMemoryChatOpsStore(systemClock),
  pass,
}));
