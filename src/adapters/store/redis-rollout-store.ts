import type { Redis } from 'ioredis';
import type { RolloutStore, StoredUpdate } from '../../app/store-ports.js';
import { parseRolloutState, type RolloutState } from '../../core/rollout/index.js';
import type { RedisKeys } from './redis-keys.js';

// Keep the newest checkpoint: a worker that was presumed dead must not overwrite its successor.
const SAVE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).sequence > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

/** How long a rollout's state and updates are kept after its last change. */
const RETAIN_MS = 30 * 86_400_000;
const UPDATES_MAX = 50_000;

export class RedisRolloutStore implements RolloutStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async save(state: RolloutState): Promise<void> {
    await this.redis.eval(
      SAVE,
      1,
      this.keys.checkpoint(state.id),
      JSON.stringify(state),
      state.sequence,
      RETAIN_MS,
    );
  }

  async load(id: string): Promise<RolloutState | undefined> {
    const text = await this.redis.get(this.keys.checkpoint(id));
    if (text === null) return undefined;
    const parsed = parseRolloutState(JSON.parse(text));
    if (!parsed.ok) throw new Error(`rollout ${id}: ${parsed.message}`);
    return parsed.state;
  }

  async append(id: string, update: StoredUpdate): Promise<void> {
    const key = this.keys.updates(id);
    await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', UPDATES_MAX, '*', 'update', JSON.stringify(update))
      .pexpire(key, RETAIN_MS)
      .exec();
  }

  async read(
    id: string,
    cursor: string,
    blockMs: number,
  ): Promise<{ cursor: string; update: StoredUpdate }[]> {
    // BLOCK 0 would wait for ever (and hold the connection): 0 here means do not wait at all.
    const reply =
      blockMs > 0
        ? await this.redis.xread('BLOCK', blockMs, 'STREAMS', this.keys.updates(id), cursor)
        : await this.redis.xread('STREAMS', this.keys.updates(id), cursor);
    if (reply === null) return [];
    return reply.flatMap(([, entries]) =>
      entries.map(([entryId, fields]) => ({
        cursor: entryId,
        update: JSON.parse(fields[1] ?? 'null') as StoredUpdate,
      })),
    );
  }

  async requestCancel(id: string, by: string): Promise<void> {
    await this.redis.set(this.keys.cancel(id), by, 'PX', RETAIN_MS, 'NX');
  }

  async cancelRequestedBy(id: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.cancel(id))) ?? undefined;
  }

  async answerGate(
    id: string,
    group: string,
    answer: { continue: boolean; by: string },
  ): Promise<void> {
    await this.redis.set(this.keys.gate(id, group), JSON.stringify(answer), 'PX', RETAIN_MS, 'NX');
  }

  async gateAnswer(
    id: string,
    group: string,
  ): Promise<{ continue: boolean; by: string } | undefined> {
    const text = await this.redis.get(this.keys.gate(id, group));
    return text === null ? undefined : (JSON.parse(text) as { continue: boolean; by: string });
  }
}
