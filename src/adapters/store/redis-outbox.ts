import type { Redis } from 'ioredis';
import type {
  DeliveryState,
  MessageView,
  OutboxMessage,
  OutboxRecord,
  OutboxStore,
} from '../../app/outbox/ports.js';
import type { RedisKeys } from './redis-keys.js';

/** A message not delivered after this long is gone; a delivered one is kept a week for threads. */
const KEPT_MS = 31 * 24 * 3600_000;
const SETTLED_KEPT_MS = 7 * 24 * 3600_000;

const ADD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'to', ARGV[1], 'view', ARGV[2], 'createdAt', ARGV[3], 'delivery', ARGV[4], 'settled', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
return 1`;

const CHANGE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'view', ARGV[1], 'settled', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

// A settled message leaves the list, unless its view changed since the attempt read it.
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'delivery', ARGV[1])
if ARGV[2] == '1' and redis.call('HGET', KEYS[1], 'view') == ARGV[5] then
  redis.call('HSET', KEYS[1], 'settled', '1')
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1`;

const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const FRESH: DeliveryState = { notBefore: 0, attempts: 0, settled: false };

export class RedisOutbox implements OutboxStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async add(message: OutboxMessage): Promise<boolean> {
    const added = await this.redis.eval(
      ADD,
      2,
      this.keys.outbox(message.key),
      this.keys.outboxUnsettled(),
      JSON.stringify(message.to),
      JSON.stringify(message.view),
      message.createdAt,
      JSON.stringify(FRESH),
      message.key,
      KEPT_MS,
    );
    return added === 1;
  }

  async change(key: string, view: MessageView): Promise<void> {
    const created = await this.redis.hget(this.keys.outbox(key), 'createdAt');
    await this.redis.eval(
      CHANGE,
      2,
      this.keys.outbox(key),
      this.keys.outboxUnsettled(),
      JSON.stringify(view),
      created ?? '0',
      key,
      KEPT_MS,
    );
  }

  async get(key: string): Promise<OutboxRecord | undefined> {
    return parse(key, await this.redis.hgetall(this.keys.outbox(key)));
  }

  async unsettled(limit: number): Promise<OutboxRecord[]> {
    const keys = await this.redis.zrange(this.keys.outboxUnsettled(), '0', String(limit - 1));
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetall(this.keys.outbox(key));
    const replies = (await pipeline.exec()) ?? [];
    const found = keys.map((key, index) =>
      parse(key, (replies[index]?.[1] ?? {}) as Record<string, string>),
    );
    const gone = keys.filter((_, index) => found[index] === undefined);
    if (gone.length > 0) await this.redis.zrem(this.keys.outboxUnsettled(), ...gone);
    return found.filter((item): item is OutboxRecord => item !== undefined && !item.settled);
  }

  async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(CLAIM, 1, this.keys.outboxLease(key), owner, ttlMs)) === 1;
  }

  async record(key: string, delivery: DeliveryState, view: MessageView): Promise<void> {
    await this.redis.eval(
      RECORD,
      2,
      this.keys.outbox(key),
      this.keys.outboxUnsettled(),
      JSON.stringify(delivery),
      delivery.settled ? '1' : '0',
      key,
      SETTLED_KEPT_MS,
      JSON.stringify(view),
    );
  }
}

function parse(key: string, fields: Record<string, string>): OutboxRecord | undefined {
  if (fields.view === undefined || fields.to === undefined) return undefined;
  const delivery = JSON.parse(fields.delivery ?? JSON.stringify(FRESH)) as DeliveryState;
  return {
    key,
    to: JSON.parse(fields.to),
    view: JSON.parse(fields.view),
    createdAt: Number(fields.createdAt ?? 0),
    ...delivery,
    settled: fields.settled === '1',
  };
}
