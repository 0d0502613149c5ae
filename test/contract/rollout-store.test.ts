import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisRolloutStore } from '../../src/adapters/store/redis-rollout-store.js';
import { InMemoryRolloutStore } from '../support/memory/memory-stores.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { rolloutStoreContract } from './rollout-store.contract.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  redis.disconnect();
});

rolloutStoreContract(
  'Redis',
  async () => {
    const prefix = testPrefix('rollouts');
    prefixes.push(prefix);
    return new RedisRolloutStore(redis, new RedisKeys(prefix));
  },
  async (state) => {
    const keys = new RedisKeys(prefixes.at(-1) as string);
    await redis.set(keys.wholeCheckpoint(state.id), JSON.stringify(state));
  },
);

rolloutStoreContract('in memory', async () => new InMemoryRolloutStore());
