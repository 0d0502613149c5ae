import type { Redis } from 'ioredis';
import type {
  ChannelNotice,
  ChatOpsStore,
  MessageRef,
  PendingRollout,
  ReportedRollout,
} from '../../app/chatops/ports.js';
import type { RedisKeys } from './redis-keys.js';

/** Decided requests stay readable this long, so a late click still hears who decided. */
const DECIDED_KEPT_MS = 7 * 24 * 3600_000;

// Replace the request only while the stored one is pending: two approvers clicking at once get
// one decision, and the other is told who was first.
const DECIDE = `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).request.status ~= 'pending' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[2])
return 1`;

// Take the lease if free or ours, and extend it.
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export class RedisChatOpsStore implements ChatOpsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async firstDelivery(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.delivery(key), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async savePending(pending: PendingRollout): Promise<void> {
    const keep = Math.max(1000, pending.request.expiresAt - Date.now()) + DECIDED_KEPT_MS;
    await this.redis
      .multi()
      .set(this.keys.pending(pending.id), JSON.stringify(pending), 'PX', keep)
      .sadd(this.keys.pendingIds(), pending.id)
      .exec();
  }

  async pending(id: string): Promise<PendingRollout | undefined> {
    const stored = await this.redis.get(this.keys.pending(id));
    return stored === null ? undefined : (JSON.parse(stored) as PendingRollout);
  }

  async decide(id: string, decided: PendingRollout): Promise<boolean> {
    const done = await this.redis.eval(
      DECIDE,
      2,
      this.keys.pending(id),
      this.keys.pendingIds(),
      JSON.stringify(decided),
      id,
      DECIDED_KEPT_MS,
    );
    return done === 1;
  }

  async allPending(): Promise<PendingRollout[]> {
    const ids = await this.redis.smembers(this.keys.pendingIds());
    const found = await Promise.all(ids.map((id) => this.pending(id)));
    // An id whose request has gone (its key lapsed) is dropped from the set as it is found.
    const gone = ids.filter((_, index) => found[index] === undefined);
    if (gone.length > 0) await this.redis.srem(this.keys.pendingIds(), ...gone);
    return found.filter((item): item is PendingRollout => item?.request.status === 'pending');
  }

  async report(entry: ReportedRollout): Promise<void> {
    await this.redis.hset(this.keys.reports(), entry.rollout, JSON.stringify(entry));
  }

  async reports(): Promise<ReportedRollout[]> {
    const all = await this.redis.hvals(this.keys.reports());
    return all.map((item) => JSON.parse(item) as ReportedRollout);
  }

  async claimReport(rollout: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(CLAIM, 1, this.keys.reportLease(rollout), owner, ttlMs)) === 1;
  }

  async reportDone(rollout: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.keys.reports(), rollout)
      .del(this.keys.reportLease(rollout))
      .exec();
  }

  async addNotice(notice: ChannelNotice): Promise<void> {
    await this.redis.lpush(this.keys.notices(), JSON.stringify(notice));
  }

  async takeNotices(): Promise<ChannelNotice[]> {
    // RPOP with a count is one command: two serve processes never take the same notice.
    const taken = await this.redis.rpop(this.keys.notices(), 50);
    return (taken ?? []).map((item) => JSON.parse(item) as ChannelNotice);
  }

  async scheduleMessage(id: string): Promise<MessageRef | undefined> {
    const stored = await this.redis.get(this.keys.scheduleMessage(id));
    return stored === null ? undefined : (JSON.parse(stored) as MessageRef);
  }

  async rememberScheduleMessage(id: string, ref: MessageRef): Promise<void> {
    // Long enough for any schedule (at most 30 days ahead) to fire or be cancelled.
    await this.redis.set(
      this.keys.scheduleMessage(id),
      JSON.stringify(ref),
      'PX',
      31 * 24 * 3600_000,
    );
  }
}
