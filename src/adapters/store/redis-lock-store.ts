import type { Redis } from 'ioredis';
import type { LockHolder, LockResult, LockStore, Target } from '../../app/store-ports.js';
import type { RedisKeys } from './redis-keys.js';

// Take the lock if free or already ours; otherwise return who holds it.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local holder = cjson.decode(current)
  if holder.token ~= ARGV[2] then return current end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false`;

const REFRESH = `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).token ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const RELEASE = `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).token ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** One lock per service+environment, with a TTL that its holder keeps refreshing. */
export class RedisLockStore implements LockStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(target: Target, holder: LockHolder, ttlMs: number): Promise<LockResult> {
    const current = (await this.redis.eval(
      ACQUIRE,
      1,
      this.keys.lock(target),
      JSON.stringify(holder),
      holder.token,
      ttlMs,
    )) as string | null;
    return current === null
      ? { ok: true }
      : { ok: false, holder: JSON.parse(current) as LockHolder };
  }

  async refresh(target: Target, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(REFRESH, 1, this.keys.lock(target), token, ttlMs)) === 1;
  }

  async release(target: Target, token: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.keys.lock(target), token)) === 1;
  }

  async forceRelease(target: Target): Promise<LockHolder | undefined> {
    const current = await this.redis.getdel(this.keys.lock(target));
    return current === null ? undefined : (JSON.parse(current) as LockHolder);
  }

  async get(target: Target): Promise<LockHolder | undefined> {
    const current = await this.redis.get(this.keys.lock(target));
    return current === null ? undefined : (JSON.parse(current) as LockHolder);
  }
}
