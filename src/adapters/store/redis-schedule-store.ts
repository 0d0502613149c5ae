import type { Redis } from 'ioredis';
import type { ScheduledRollback } from '../../app/jobs.js';
import type {
  ScheduleCreated,
  ScheduleRecord,
  ScheduleStatus,
  ScheduleStore,
} from '../../app/schedule-ports.js';
import type { RedisKeys } from './redis-keys.js';

/** Longer than any schedule may be ahead (30 days), and then some to show how it ended. */
const KEPT_MS = 60 * 24 * 3600_000;

// A target has one open rollback at a time. The rollback itself is written once; its changing
// part is a hash beside it, so no script ever has to rewrite JSON it did not write.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
local replaced = {}
local current = redis.call('GET', KEYS[3])
if current then
  local state = ARGV[6] .. current .. ':state'
  local status = redis.call('HGET', state, 'status')
  if status == 'pending' or status == 'firing' then
    if ARGV[4] ~= '1' then return {2, current} end
    if status == 'pending' then
      redis.call('HSET', state, 'status', 'replaced', 'settled', ARGV[5])
      redis.call('ZREM', KEYS[4], current)
      table.insert(replaced, current)
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[7])
redis.call('HSET', KEYS[2], 'status', 'pending')
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
return {1, unpack(replaced)}`;

// Moves the rollback on only from one of the statuses given; an end frees its target.
const TRANSITION = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local allowed = false
for i = 5, #ARGV do if ARGV[i] == status then allowed = true end end
if not allowed then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'settled', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'firing', ARGV[3]) end
if ARGV[1] ~= 'pending' and ARGV[1] ~= 'firing' then
  redis.call('ZREM', KEYS[2], ARGV[4])
  if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
end
return 1`;

export class RedisScheduleStore implements ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async create(
    schedule: ScheduledRollback,
    options: { replace: boolean; at: number; by: string },
  ): Promise<ScheduleCreated> {
    const reply = (await this.redis.eval(
      CREATE,
      4,
      this.keys.schedule(schedule.id),
      this.keys.scheduleState(schedule.id),
      this.keys.scheduleTarget(schedule),
      this.keys.openSchedules(),
      JSON.stringify(schedule),
      schedule.id,
      schedule.runAt,
      options.replace ? '1' : '0',
      JSON.stringify({ by: options.by, at: options.at }),
      this.keys.schedule(''),
      KEPT_MS,
    )) as [number, ...string[]];
    const [code, ...ids] = reply;
    if (code === 2) {
      const existing = ids[0] === undefined ? undefined : await this.get(ids[0]);
      if (existing !== undefined) return { ok: false, existing };
      return this.create(schedule, options);
    }
    const replaced = await Promise.all(ids.map((id) => this.get(id)));
    return {
      ok: true,
      added: code === 1,
      replaced: replaced.filter((item): item is ScheduleRecord => item !== undefined),
    };
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const [stored, state] = await this.redis
      .multi()
      .get(this.keys.schedule(id))
      .hgetall(this.keys.scheduleState(id))
      .exec()
      .then((replies) => (replies ?? []).map(([, value]) => value));
    if (typeof stored !== 'string') return undefined;
    const fields = (state ?? {}) as Record<string, string>;
    return {
      ...(JSON.parse(stored) as ScheduledRollback),
      status: (fields.status ?? 'pending') as ScheduleStatus,
      ...(fields.settled === undefined ? {} : { settled: JSON.parse(fields.settled) }),
      ...(fields.firing === undefined ? {} : { firing: JSON.parse(fields.firing) }),
    };
  }

  async open(): Promise<ScheduleRecord[]> {
    const ids = await this.redis.zrange(this.keys.openSchedules(), '0', '-1');
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter(
      (item): item is ScheduleRecord =>
        item !== undefined && (item.status === 'pending' || item.status === 'firing'),
    );
  }

  async transition(
    id: string,
    from: readonly ScheduleStatus[],
    change: Pick<ScheduleRecord, 'status'> & Partial<Pick<ScheduleRecord, 'settled' | 'firing'>>,
  ): Promise<ScheduleRecord | undefined> {
    const record = await this.get(id);
    if (record === undefined) return undefined;
    const moved = await this.redis.eval(
      TRANSITION,
      3,
      this.keys.scheduleState(id),
      this.keys.openSchedules(),
      this.keys.scheduleTarget(record),
      change.status,
      change.settled === undefined ? '' : JSON.stringify(change.settled),
      change.firing === undefined ? '' : JSON.stringify(change.firing),
      id,
      ...from,
    );
    return moved === 1 ? this.get(id) : undefined;
  }
}
