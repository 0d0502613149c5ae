import type { Redis } from 'ioredis';
import type { Approval, LaunchResult, RequestStore } from '../../app/approval-ports.js';
import type { RedisKeys } from './redis-keys.js';

/** Decided requests stay readable this long, so a late click still hears who decided. */
const DECIDED_KEPT_MS = 7 * 24 * 3600_000;

// Store the request only if none has its id.
const OPEN = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  redis.call('SADD', KEYS[2], ARGV[3])
  return 1
end
return 0`;

// Replace the request only while the stored one is pending: two approvers clicking at once get
// one decision, and the other is told who was first. An approval joins the ones to launch.
const DECIDE = `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).request.status ~= 'pending' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[2])
if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) end
return 1`;

// What a launch did is written once, beside the request (which is never rewritten in Lua).
const SETTLE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
redis.call('SREM', KEYS[2], ARGV[3])
return 1`;

export class RedisRequestStore implements RequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async firstDelivery(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.delivery(key), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async open(approval: Approval): Promise<boolean> {
    const keep = Math.max(1000, approval.request.expiresAt - Date.now()) + DECIDED_KEPT_MS;
    const added = await this.redis.eval(
      OPEN,
      2,
      this.keys.pending(approval.id),
      this.keys.pendingIds(),
      JSON.stringify(approval),
      keep,
      approval.id,
    );
    return added === 1;
  }

  async approval(id: string): Promise<Approval | undefined> {
    const [stored, launched] = await this.redis.mget(this.keys.pending(id), this.keys.launch(id));
    if (stored === null || stored === undefined) return undefined;
    const approval = JSON.parse(stored) as Approval;
    if (launched !== null && launched !== undefined && approval.launch !== undefined)
      approval.launch.result = JSON.parse(launched) as LaunchResult;
    return approval;
  }

  async decide(id: string, decided: Approval): Promise<boolean> {
    const done = await this.redis.eval(
      DECIDE,
      3,
      this.keys.pending(id),
      this.keys.pendingIds(),
      this.keys.unlaunchedIds(),
      JSON.stringify(decided),
      id,
      DECIDED_KEPT_MS,
      decided.request.status === 'approved' && decided.launch !== undefined ? '1' : '0',
    );
    return done === 1;
  }

  private async listed(setKey: string): Promise<Approval[]> {
    const ids = await this.redis.smembers(setKey);
    const found = await Promise.all(ids.map((id) => this.approval(id)));
    // An id whose request has gone (its key lapsed) is dropped from the set as it is found.
    const gone = ids.filter((_, index) => found[index] === undefined);
    if (gone.length > 0) await this.redis.srem(setKey, ...gone);
    return found.filter((item): item is Approval => item !== undefined);
  }

  async pending(): Promise<Approval[]> {
    return (await this.listed(this.keys.pendingIds())).filter(
      (item) => item.request.status === 'pending',
    );
  }

  async unlaunched(): Promise<Approval[]> {
    return (await this.listed(this.keys.unlaunchedIds())).filter(
      (item) => item.launch !== undefined && item.launch.result === undefined,
    );
  }

  async settleLaunch(id: string, result: LaunchResult): Promise<boolean> {
    const done = await this.redis.eval(
      SETTLE,
      2,
      this.keys.launch(id),
      this.keys.unlaunchedIds(),
      JSON.stringify(result),
      DECIDED_KEPT_MS,
      id,
    );
    return done === 1;
  }
}
