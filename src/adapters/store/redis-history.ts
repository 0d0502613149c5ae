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

/** Versions deployed per service+environment, newest first. */
export class RedisHistoryStore implements HistoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async record(entry: HistoryEntry): Promise<void> {
    const key = this.keys.history(entry);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(entry))
      .ltrim(key, 0, HISTORY_MAX - 1)
      .exec();
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
