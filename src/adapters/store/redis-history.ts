import type { Redis } from 'ioredis';
import type {
  AuditEntry,
  AuditLog,
  HistoryEntry,
  HistoryStore,
  Target,
} from '../../app/store-ports.js';
import type { RedisKeys } from './redis-keys.js';

const HISTORY_MAX = 500;
const AUDIT_MAX = 100_000;

// Push the entry unless its rollout is already in the list: recording is checked and done at once.
const RECORD_ONCE = `
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if cjson.decode(item).rollout == ARGV[2] then return 0 end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1`;

/** Versions deployed per service+environment, newest first. */
export class RedisHistoryStore implements HistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async record(entry: HistoryEntry): Promise<boolean> {
    const added = await this.redis.eval(
      RECORD_ONCE,
      1,
      this.keys.history(entry),
      JSON.stringify(entry),
      entry.rollout,
      HISTORY_MAX,
    );
    return added === 1;
  }

  async recorded(target: Target, rollout: string): Promise<boolean> {
    const entries = await this.list(target, HISTORY_MAX);
    return entries.some((entry) => entry.rollout === rollout);
  }

  async list(target: Target, limit: number): Promise<HistoryEntry[]> {
    const items = await this.redis.lrange(this.keys.history(target), 0, limit - 1);
    return items.map((item) => JSON.parse(item) as HistoryEntry);
  }
}

/** Append-only record of who did what: a Redis stream, capped, never holding secrets. */
export class RedisAuditLog implements AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.redis.xadd(
      this.keys.audit(),
      'MAXLEN',
      '~',
      AUDIT_MAX,
      '*',
      'entry',
      JSON.stringify(entry),
    );
  }

  async recent(limit: number): Promise<AuditEntry[]> {
    const entries = await this.redis.xrevrange(this.keys.audit(), '+', '-', 'COUNT', limit);
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as AuditEntry);
  }
}
