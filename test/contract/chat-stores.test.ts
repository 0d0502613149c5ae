import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisOutbox } from '../../src/adapters/store/redis-outbox.js';
import { RedisRequestStore } from '../../src/adapters/store/redis-request-store.js';
import { RedisScheduleStore } from '../../src/adapters/store/redis-schedule-store.js';
import { InMemoryOutbox } from '../support/memory/memory-outbox.js';
import { InMemoryRequestStore } from '../support/memory/memory-request-store.js';
import { InMemoryScheduleStore } from '../support/memory/memory-schedule-store.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { outboxContract } from './outbox.contract.js';
import { requestStoreContract } from './request-store.contract.js';
import { scheduleStoreContract } from './schedule-store.contract.js';

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
const pass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
  redis.disconnect();
});
const keys = (name: string) => {
  const prefix = testPrefix(name);
  prefixes.push(prefix);
  return new RedisKeys(prefix);
};

requestStoreContract('Redis', async () => ({
  store: new RedisRequestStore(redis, keys('requests')),
  pass,
}));
requestStoreContract('in memory', async () => ({
  store: new InMemoryRequestStore(systemClock),
  pass,
}));

scheduleStoreContract('Redis', async () => new RedisScheduleStore(redis, keys('schedules')));
scheduleStoreContract('in memory', async () => new InMemoryScheduleStore());

outboxContract('Redis', async () => ({ outbox: new RedisOutbox(redis, keys('outbox')), pass }));
outboxContract('in memory', async () => ({ outbox: new InMemoryOutbox(systemClock), pass }));
